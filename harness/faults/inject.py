"""What a fault case does to servers, disks and links, through the docker backend's fault methods.

Every wait here polls a condition with a deadline (``readiness.wait_for``); nothing sleeps for
readiness. ``held`` always restores what it froze, even when the read it overlaps fails.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from harness.backends.docker import DockerBackend
from harness.errors import HarnessError
from harness.readiness import READY, wait_for, wait_xrd_ping
from harness.topology import Server
from harness.truth.cinfo import read_cinfo

FILLER = ".harness-filler"  # not a cached file: purge cannot remove it, as with any other tenant of a disk
MIB = 1024**2


def restart(backend: DockerBackend, server: Server, timeout_s: float, user: str) -> None:
    """SIGKILL the server, start its container again, wait for a new ``initialization completed``.

    The ping goes as a new ``user``: XrdCl keeps one channel per user@host:port, and the old one
    may still be failing over from the killed server (seen: pings refused for 20 s).
    """
    before = _starts(server)
    backend.kill(server.service)
    backend.revive(server.service)
    wait_for(lambda: _starts(server) > before, timeout_s, f"{server.name} (restarted)")
    placement = server.placement
    wait_xrd_ping(f"root://{user}@{placement.host}:{placement.port}", server.name, timeout_s)


def _starts(server: Server) -> int:
    """How often the server said it was ready: its own last startup line, not the plugins' ones.

    Only then is its port open: a ping that hits the closed port marks XrdCl's channel as failed
    for ``StreamErrorWindow`` and later pings fail at once.
    """
    marker = f"xrootd {server.name}@"
    return sum(1 for line in server.service.log_text().splitlines() if marker in line and READY in line)


def wait_cached(backend: DockerBackend, cache: Server, lfn: str, timeout_s: float) -> None:
    """Wait until the cache's cinfo says every block of ``lfn`` is on its disk (written at detach)."""

    def complete() -> bool:
        access = read_cinfo(lambda argv: backend.exec(cache.service, argv), cache.placement.data_dir, lfn, 0)
        return access is not None and access.complete_pct >= 100.0

    wait_for(complete, timeout_s, f"{lfn} complete on {cache.name}'s disk")


def is_cached(backend: DockerBackend, cache: Server, lfn: str) -> bool:
    """True while the cache holds the data file of ``lfn``."""
    try:
        backend.exec(cache.service, ["test", "-e", _data_file(cache, lfn)])
    except HarnessError:
        return False
    return True


def corrupt(backend: DockerBackend, cache: Server, lfn: str, offset: int, length: int = 4096) -> None:
    """Overwrite ``length`` bytes of the cached data file in place, as a failing disk would."""
    backend.exec(cache.service, ["dd", "if=/dev/urandom", f"of={_data_file(cache, lfn)}", "bs=1",
                                 f"seek={offset}", f"count={length}", "conv=notrunc,fsync", "status=none"])


def fill_disk(backend: DockerBackend, cache: Server, disk: int, fraction: float) -> int:
    """Write a filler file until the cache's data disk is ``fraction`` full; returns the bytes written."""
    data = cache.placement.data_dir
    used = int(backend.exec(cache.service, ["df", "-B1", "--output=used", data]).split()[-1])
    count = max(0, int(disk * fraction) - used) // MIB
    backend.exec(cache.service, ["dd", "if=/dev/zero", f"of={data}/{FILLER}", "bs=1M", f"count={count}",
                                 "conv=fsync", "status=none"])
    return count * MIB


@contextlib.contextmanager
def held(backend: DockerBackend, name: str, seconds: float) -> Iterator[None]:
    """Freeze ``name`` now and thaw it after ``seconds`` (from a timer), or on exit at the latest."""
    backend.freeze(name)
    lock, frozen = threading.Lock(), [True]

    def thaw() -> None:
        with lock:  # the timer and the exit may race: thaw once
            if frozen[0]:
                frozen[0] = False
                backend.thaw(name)

    timer = threading.Timer(seconds, thaw)
    timer.daemon = True  # an interrupt unwinds through the finally below; exit never waits for it
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with contextlib.suppress(HarnessError):
            thaw()


def _data_file(cache: Server, lfn: str) -> str:
    return f"{cache.placement.data_dir.rstrip('/')}{lfn}"
