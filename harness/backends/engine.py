"""A run's objects on the Docker engine: the client, names, labels, removal and reaping.

Every container and network of a run carries ``LABEL_RUN``; ``LABEL_PID``/``LABEL_HOST``
name the harness process that owns it, so ``reap(None)`` removes only what dead runs left.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import EnvironmentMissing

LABEL_RUN = "org.xcache-harness.run"
LABEL_ROLE = "org.xcache-harness.role"
LABEL_NAME = "org.xcache-harness.name"
LABEL_PID = "org.xcache-harness.pid"  # the harness process: alive means the run is not a leftover
LABEL_HOST = "org.xcache-harness.host"

API_TIMEOUT_S = 60
STOP_TIMEOUT_S = 5


def connect(timeout_s: float = API_TIMEOUT_S) -> Any:
    """A client of the local Docker engine; ``EnvironmentMissing`` if there is none."""
    try:
        import docker
    except ImportError:
        raise EnvironmentMissing("the 'docker' Python package is not installed") from None
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except docker.errors.DockerException as exc:
        raise EnvironmentMissing(f"Docker engine not reachable: {exc}") from None
    return client


def run_labels(run_id: str, role: str, name: str) -> dict[str, str]:
    """Labels of every object of a run: which run, what it is, and the harness process that owns it."""
    return {LABEL_RUN: run_id, LABEL_ROLE: role, LABEL_NAME: name,
            LABEL_PID: str(os.getpid()), LABEL_HOST: platform.node()}


def docker_name(run_id: str, name: str) -> str:
    """Name of a run's container or network; engine-wide unique because it holds the run id."""
    return f"xh-{run_id}-{name}"


def passwd_ids(passwd: str, user: str, where: str = "image") -> tuple[int, int]:
    """(uid, gid) of ``user`` in an /etc/passwd text."""
    for line in passwd.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == user and fields[2].isdigit() and fields[3].isdigit():
            return int(fields[2]), int(fields[3])
    raise EnvironmentMissing(f"{where} has no user {user!r} (is it an xcache-harness server image?)")


def is_leftover(labels: Mapping[str, str], host: str, alive: Callable[[int], bool]) -> bool:
    """True when the harness process that labelled an object is gone (on this host)."""
    if labels.get(LABEL_HOST, host) != host:
        return False  # another machine's run on a shared engine: not ours to judge
    pid = labels.get(LABEL_PID, "")
    return not (pid.isdigit() and alive(int(pid)))


def remove_container(container: Any) -> None:
    import docker

    with contextlib.suppress(docker.errors.NotFound):
        container.stop(timeout=STOP_TIMEOUT_S)
        container.remove(v=True, force=True)


def remove_network(network: Any) -> None:
    import docker

    with contextlib.suppress(docker.errors.NotFound):
        network.remove()


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (killed, not yet waited for) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, the state follows its ')'
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def reap(run_id: str | None = None, client: Any = None) -> list[str]:
    """Remove containers, then networks, labelled by run ``run_id`` (or by any dead run).

    Returns one line per object removed.
    """
    import docker

    client = client or connect()
    label = f"{LABEL_RUN}={run_id}" if run_id else LABEL_RUN
    host = platform.node()

    def doomed(labels: Mapping[str, str]) -> bool:
        return run_id is not None or is_leftover(labels, host, process_alive)

    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": label}):
        if doomed(container.labels):
            try:
                container.remove(v=True, force=True)
            except docker.errors.NotFound:
                continue
            removed.append(f"removed container {container.name} (run {container.labels.get(LABEL_RUN)})")
    for network in client.networks.list(filters={"label": label}):
        if doomed(network.attrs.get("Labels") or {}):
            remove_network(network)
            removed.append(f"removed network {network.name} (run {(network.attrs.get('Labels') or {})[LABEL_RUN]})")
    return removed
