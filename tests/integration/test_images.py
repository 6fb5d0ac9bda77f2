"""The images build without a registry, carry the promised XRootD, and an origin serves and stops.

The first build from nothing takes about 1.5 minutes (mmdebstrap, then the role images);
later runs find the images and take well under a second.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from harness.images import LABEL_HASH, LABEL_XROOTD, ROLES, build_images, recipe_hash

pytestmark = [pytest.mark.integration, pytest.mark.docker]

XROOTD = "5.5.3"
ORIGIN_CFG = """\
all.export /
xrd.port 1094
oss.localroot /srv/xrd/data
all.adminpath /srv/xrd/admin
all.pidpath /srv/xrd/admin
xrd.network nodnr
"""


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return docker.from_env()


@pytest.fixture(scope="module")
def tags(client: docker.DockerClient) -> dict[str, str]:
    return build_images(XROOTD, progress=print, client=client)


def test_every_role_is_built_and_labelled(client: docker.DockerClient, tags: dict[str, str]) -> None:
    assert set(tags) == set(ROLES)
    for role, tag in tags.items():
        labels = client.images.get(tag).labels
        assert labels[LABEL_XROOTD] == XROOTD
        assert labels[LABEL_HASH] == recipe_hash(role, XROOTD)


def test_second_build_is_a_quick_no_op(client: docker.DockerClient, tags: dict[str, str]) -> None:
    lines: list[str] = []
    started = time.monotonic()
    again = build_images(XROOTD, progress=lines.append, client=client)
    assert time.monotonic() - started < 5
    assert again == tags
    assert all("up to date" in line for line in lines)


def test_origin_image_has_the_promised_xrootd(client: docker.DockerClient, tags: dict[str, str]) -> None:
    # xrootd -v prints to stderr
    out = client.containers.run(tags["origin"], ["xrootd", "-v"], remove=True, init=True, stderr=True)
    assert out.decode().strip() == f"v{XROOTD}"


@pytest.fixture
def origin(client: docker.DockerClient, tags: dict[str, str]) -> Iterator[Any]:
    """An origin container started with the minimal config; removed afterwards."""
    command = ["xrootd", "-c", "/etc/xrootd/harness.cfg", "-l", "/var/log/xrootd/xrootd.log"]
    container = client.containers.create(tags["origin"], [*command, "-n", "origin", "-R", "xrootd"], init=True)
    try:
        container.put_archive("/etc/xrootd", _tar("harness.cfg", ORIGIN_CFG))
        container.start()
        yield container
    finally:
        container.remove(force=True)


def test_origin_starts_and_stops_at_once(origin: Any) -> None:
    log = _wait_for_log(origin, "initialization completed", timeout_s=20)
    assert "------ xrootd origin@" in log
    started = time.monotonic()
    origin.stop(timeout=10)
    assert time.monotonic() - started < 3  # SIGTERM reached xrootd: no 10 s kill timeout


def _tar(name: str, text: str) -> bytes:
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _wait_for_log(container: Any, needle: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    log = ""
    while time.monotonic() < deadline:
        container.reload()
        if container.status != "running":
            break
        code, out = container.exec_run(["cat", "/var/log/xrootd/origin/xrootd.log"])
        log = bytes(out).decode(errors="replace")
        if code == 0 and needle in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"origin not ready ({container.status}); log:\n{log}\n{container.logs().decode()}")
