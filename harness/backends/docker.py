"""Servers in Docker containers: one network per site, links emulated by relay containers.

Images come from ``harness.images`` (built here on first use; no registry). Every container
and network carries the run id as a label, so ``reap`` finds what a dead run left behind.
Each server gets a host directory ``<runtime>/<run-id>/<name>/`` bind-mounted at /srv/xrd
(config, data, admin, log): the harness writes staged files and reads logs on the host side,
and the server sees them under /srv/xrd. Who reaches whom is decided by ``sites.plan_sites``.

>>> with DockerBackend(Path("/tmp/xh/run-1"), topology, xrootd="5.8.1") as backend:  # doctest: +SKIP
...     service = backend.start(backend.place("origin", "origin"), config, {})
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.backends.base import Placement, Role, Service, save_log
from harness.backends.engine import (
    connect,
    docker_name,
    passwd_ids,
    reap,
    remove_container,
    remove_network,
    run_labels,
)
from harness.backends.files import chown_tree, server_environment, write_staged
from harness.backends.local import OWNER_FILE
from harness.backends.sites import RelayPlan, plan_sites
from harness.errors import ServiceStartError, TopologyError, UserError
from harness.images import build_images, missing_images
from harness.readiness import wait_for
from harness.spec import TopologySpec

DEFAULT_XROOTD = "5.5.3"
MOUNT = "/srv/xrd"  # the server's own directory inside its container
RELAY_DIR = "/opt/linkemu"
PROBE_PORT = 10999  # the relay's measurement endpoint; server ports start at 1094
RELAY_READY_TIMEOUT_S = 20.0
SERVER_USER = "xrootd"

Progress = Callable[[str], None]


@dataclass
class DockerService:
    """A server container; its log is read from the host side of its bind mount."""

    placement: Placement
    container: Any  # docker.models.containers.Container
    log_path: Path

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            pass
        import docker

        try:
            # no log file yet: what the container printed says why (e.g. xrootd not found)
            return str(self.container.logs(stdout=True, stderr=True).decode(errors="replace"))
        except docker.errors.DockerException:  # already removed
            return ""

    def is_running(self) -> bool:
        import docker

        try:
            self.container.reload()
        except docker.errors.NotFound:
            return False
        return bool(self.container.status == "running")


class DockerBackend:
    """Starts servers as containers; use as a context manager so all of them go away."""

    name = "docker"
    # Servers send monitoring to their site network's gateway; sites have one gateway each.
    monitor_bind = "0.0.0.0"

    def __init__(self, run_dir: Path, topology: TopologySpec, xrootd: str | None = None,
                 progress: Progress = lambda _m: None, client: Any = None) -> None:
        if any(link.loss for link in topology.links):
            raise UserError("docker backend: links are emulated by a relay, which cannot drop packets "
                            "(set loss: 0)")
        self.run_dir, self.run_id = run_dir, run_dir.name
        self.version = xrootd or DEFAULT_XROOTD
        self.plan = plan_sites(topology)
        self.client = client or connect()
        roles = ("origin", "cache", "linkemu") if self.plan.relays else ("origin", "cache")
        missing = missing_images(self.version, roles, self.client)
        if missing:
            progress(f"building images for XRootD {self.version}: {', '.join(missing)} (a minute or two, once)")
        self.images = build_images(self.version, _summary_lines(progress), roles=roles, client=self.client)
        self.engine = str(self.client.version().get("Version", "unknown"))
        self.services: list[DockerService] = []
        self.relays: dict[str, Any] = {}
        self.networks: dict[str, Any] = {}  # site -> network
        self._owners: dict[str, tuple[int, int]] = {}  # image -> (uid, gid) of its xrootd user
        self._created = False
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / OWNER_FILE).write_text(str(os.getpid()))  # `clean` leaves live runs alone

    def __enter__(self) -> DockerBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the Backend protocol -------------------------------------------------------------

    def place(self, name: str, role: Role) -> Placement:
        if name not in self.plan.ports:
            raise TopologyError(f"{name}: not a server of this backend's topology")
        self._ensure_sites()
        base = self.run_dir / name
        for sub in ("data", "adm", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        site = self.plan.sites[name]
        # host is the container's address, known once it runs: start() fills it in
        return Placement(name=name, role=role, host=name, port=self.plan.ports[name], peer_host=name,
                         data_dir=f"{MOUNT}/data", admin_dir=f"{MOUNT}/adm", monitor_host=self._gateway(site),
                         server_dir=MOUNT, host_dir=str(base))

    def start(self, placement: Placement, config: str, env: Mapping[str, str]) -> DockerService:
        base = self.run_dir / placement.name
        (base / "xrootd.cfg").write_text(config)
        image = self.images[placement.role]
        container = self._create_server(placement, image, env)
        service = DockerService(placement, container, base / "log" / placement.name / "xrootd.log")
        self.services.append(service)  # tracked before it runs: close() removes it whatever happens
        uid, gid = self._owner(image, container)
        chown_tree(base, uid, gid)
        container.start()
        try:
            service.placement = replace(placement, host=self._client_address(placement.name, container))
        except TopologyError:
            if service.is_running():
                raise
            # It exited at once and lost its address: readiness reports why, with its log.
        return service

    def stage(self, placement: Placement, path: str, chunks: Iterable[bytes]) -> None:
        # Straight into the host side of the origin's bind mount: no copy through the engine.
        data = self.run_dir / placement.name / "data"
        write_staged(data, path, chunks, self._owners[self.images[placement.role]])

    def exec(self, service: Service, argv: list[str]) -> str:
        service = _own(service)
        code, (out, err) = service.container.exec_run(argv, demux=True)
        if code != 0:
            message = (err or out or b"").decode(errors="replace").strip()[:300]
            raise ServiceStartError(f"{service.placement.name}: {argv[0]} failed: {message}")
        return (out or b"").decode(errors="replace")

    def stop(self, service: Service) -> None:
        service = _own(service)
        remove_container(service.container)
        if service in self.services:
            self.services.remove(service)

    def save_logs(self, service: Service, dest_dir: str) -> None:
        save_log(service, dest_dir)

    def measure_links(self) -> list[dict[str, object]]:
        from harness.links.probe import measure_link

        found: list[dict[str, object]] = []
        for relay in self.plan.relays:
            link = relay.link
            measured = measure_link(self._address(self.relays[relay.name], link.a), PROBE_PORT)
            found.append({
                "a": link.a, "b": link.b, "method": "relay",
                "configured": {"rtt_ms": link.rtt_ms, "rate_mbit": link.rate_mbit, "loss": link.loss},
                "measured": measured.as_dict(), "agrees": measured.agrees_with(link.rtt_ms, link.rate_mbit),
            })
        return found

    def facts(self) -> dict[str, object]:
        return {"xrootd-server": self.version, "images": dict(self.images), "docker-engine": self.engine}

    def close(self) -> None:
        import docker

        failures: list[str] = []

        def attempt(what: str, step: Callable[[], object]) -> None:
            # Teardown goes on past a failed step; the run label lets reap() catch the rest.
            try:
                step()
            except (docker.errors.DockerException, OSError) as exc:
                failures.append(f"{what}: {exc}")

        # Caches before the origins they read from, then the links, then the networks.
        for service in reversed(list(self.services)):
            attempt(service.placement.name, lambda s=service: self.stop(s))  # type: ignore[misc]
        for name, relay in reversed(list(self.relays.items())):
            attempt(name, lambda r=relay: remove_container(r))  # type: ignore[misc]
        self.relays.clear()
        for site, network in self.networks.items():
            attempt(f"network {site}", lambda n=network: remove_network(n))  # type: ignore[misc]
        self.networks.clear()
        if self._created:
            # Anything created but not yet tracked (an interrupt between the engine's
            # create and our bookkeeping) still carries the run label.
            attempt("reap", lambda: reap(self.run_id, self.client))
            self._created = bool(failures)  # a second close() tries again
        if failures:
            raise TopologyError(f"docker backend: teardown of run {self.run_id} incomplete "
                                f"(`xcache-harness clean` removes leftovers): {'; '.join(failures)}")

    # --- containers and networks ----------------------------------------------------------

    def _labels(self, role: str, name: str) -> dict[str, str]:
        return run_labels(self.run_id, role, name)

    def _object_name(self, name: str) -> str:
        return docker_name(self.run_id, name)

    def _ensure_sites(self) -> None:
        if self.networks:
            return
        self._created = True
        for site in self.plan.all_sites:
            # internal: containers reach each other and the host, never the outside world
            self.networks[site] = self.client.networks.create(
                self._object_name(site), driver="bridge", internal=True,
                labels=self._labels("network", site), check_duplicate=True)
        for relay in self.plan.relays:
            self._start_relay(relay)

    def _gateway(self, site: str) -> str:
        network = self.networks[site]
        network.reload()
        return str(network.attrs["IPAM"]["Config"][0]["Gateway"])

    def _create(self, image: str, command: list[str], name: str, role: str, sites: tuple[str, ...],
                aliases: Mapping[str, Iterable[str]], **options: Any) -> Any:
        """Create (not start) a container on the networks of ``sites``, with DNS aliases on each."""
        first = self.networks[sites[0]].name
        endpoint = self.client.api.create_endpoint_config(aliases=list(aliases.get(sites[0], ())) or None)
        container = self.client.containers.create(
            image, command, name=self._object_name(name), hostname=name, labels=self._labels(role, name),
            init=True,  # xrootd as PID 1 ignores SIGTERM: docker's init forwards it
            network=first, networking_config={first: endpoint}, detach=True, **options)
        try:
            for site in sites[1:]:
                self.networks[site].connect(container, aliases=list(aliases.get(site, ())) or None)
        except BaseException:
            remove_container(container)
            raise
        return container

    def _create_server(self, placement: Placement, image: str, env: Mapping[str, str]) -> Any:
        name = placement.name
        sites = self.plan.networks[name]
        command = ["xrootd", "-c", f"{MOUNT}/xrootd.cfg", "-l", f"{MOUNT}/log/xrootd.log", "-n", name,
                   "-R", SERVER_USER]
        environment = server_environment(MOUNT, env)
        # The harness connects from each site's gateway. On an internal network a reverse lookup of that
        # address waits ~10 s for DNS (GSI logins do one, 5.5.3 of the IPv4-mapped IPv6 form): /etc/hosts
        # answers both forms at once.
        gateways = {site: self._gateway(site) for site in sites}
        harness = [f"harness-{site}:{ip}" for site, gw in gateways.items() for ip in (gw, f"::ffff:{gw}")]
        return self._create(image, command, name, placement.role, sites, {s: [name] for s in sites},
                            working_dir=MOUNT, environment=environment, extra_hosts=harness,
                            volumes={str(self.run_dir / name): {"bind": MOUNT, "mode": "rw"}})

    def _start_relay(self, relay: RelayPlan) -> None:
        command = relay_command(relay, self.run_id)
        container = self._create(self.images["linkemu"], command, relay.name, "linkemu", relay.sites,
                                 relay.aliases, working_dir=RELAY_DIR)
        self.relays[relay.name] = container
        container.put_archive(RELAY_DIR, relay_archive())
        container.start()
        wait_relay_ready(container, relay.name, RELAY_READY_TIMEOUT_S)

    def _owner(self, image: str, container: Any) -> tuple[int, int]:
        """uid/gid of the image's xrootd user, read from the created container's /etc/passwd.

        It may differ from the host's xrootd user, and between Debian suites (100 vs 996).
        """
        if image not in self._owners:
            stream, _ = container.get_archive("/etc/passwd")
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                member = tar.extractfile(tar.getmembers()[0])
                text = member.read().decode(errors="replace") if member else ""
            self._owners[image] = passwd_ids(text, SERVER_USER, image)
        return self._owners[image]

    def _client_address(self, name: str, container: Any) -> str:
        """Where the harness, standing at the client site, connects: the server or its link's relay."""
        site, relay = self.plan.client_route(name)
        return self._address(self.relays[relay.name] if relay else container, site)

    def _address(self, container: Any, site: str) -> str:
        container.reload()
        address = container.attrs["NetworkSettings"]["Networks"].get(self.networks[site].name, {}).get("IPAddress")
        if not address:
            raise TopologyError(f"{container.name}: no address on the {site} network (container stopped?)")
        return str(address)


# --- pure helpers ---------------------------------------------------------------------------


def _summary_lines(progress: Progress) -> Progress:
    """Pass on the stages of an image build, not every Dockerfile step or up-to-date check."""

    def forward(line: str) -> None:
        if ": Step " not in line and not line.endswith(" is up to date"):
            progress(line)

    return forward


def relay_command(relay: RelayPlan, run_id: str) -> list[str]:
    """The relay's argv: one forward per server it stands in for, to that server's container."""
    link = relay.link
    command = ["python3", "-m", "harness.links.relay", "--rtt-ms", f"{link.rtt_ms:g}",
               "--rate-mbit", f"{link.rate_mbit:g}", "--probe-port", f"0.0.0.0:{PROBE_PORT}"]
    for port, server in relay.forwards:
        # by container name: the short name is the relay's own alias on the near side
        command += ["--listen", f"0.0.0.0:{port}={docker_name(run_id, server)}:{port}"]
    return command


def relay_archive() -> bytes:
    """A tar of the relay's code: the package marker and ``harness/links`` (standard library only)."""
    package = Path(__file__).resolve().parents[1]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(package / "__init__.py", arcname="harness/__init__.py")
        for path in sorted((package / "links").glob("*.py")):
            tar.add(path, arcname=f"harness/links/{path.name}")
    return buf.getvalue()


# --- engine helpers -------------------------------------------------------------------------


def wait_relay_ready(container: Any, name: str, timeout_s: float) -> None:
    from harness.links.relay import READY_PREFIX

    def ready() -> bool:
        logs = container.logs(stdout=True, stderr=True).decode(errors="replace")
        if READY_PREFIX in logs:
            return True
        container.reload()
        if container.status not in ("created", "running"):
            raise ServiceStartError(f"{name}: relay exited: {logs.strip()[-500:] or 'no output'}")
        return False

    wait_for(ready, timeout_s, f"{name} (link relay)")


def _own(service: Service) -> DockerService:
    if not isinstance(service, DockerService):
        raise TypeError(f"{service!r} was not started by the docker backend")
    return service
