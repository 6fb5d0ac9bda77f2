"""Wait strategies: a server is ready when its log says so *and* it answers the protocol.

Never ``sleep(n)``: each strategy polls a condition with a deadline and, on failure,
raises with the log tail attached so the reason is on screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from harness.errors import ServiceNotReady, ServiceStartError

READY = "initialization completed"
FAILED = "initialization failed"
POLL_S = 0.02
REASON_WORDS = ("error", "invalid", "unable", "fail", "denied", "too long")  # 'too long': admin socket path


class Target(Protocol):
    """What a wait strategy needs of a service (backends' Service satisfies it)."""

    def log_text(self) -> str: ...

    def is_running(self) -> bool: ...


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until true or raise ServiceNotReady after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise ServiceNotReady(f"{what}: not ready after {timeout_s:.0f} s")
        time.sleep(POLL_S)


def wait_log_ready(target: Target, name: str, timeout_s: float) -> None:
    """Wait for xrootd's ``initialization completed`` line; fail fast on ``failed`` or exit."""

    def done() -> bool:
        log = target.log_text()
        if FAILED in log or not target.is_running():
            raise ServiceStartError(f"{name}: xrootd failed to start: {_reason(log)}")
        return READY in log

    wait_for(done, timeout_s, name)


def wait_xrd_ping(url: str, name: str, timeout_s: float) -> None:
    """Wait until the server answers a kXR_ping (the protocol itself, not just the port)."""
    from XRootD import client  # imported lazily: unit tests of this module need no bindings

    fs = client.FileSystem(url)
    wait_for(lambda: bool(fs.ping(timeout=2)[0].ok), timeout_s, f"{name} ({url})")


def _reason(log: str) -> str:
    """The most telling line of a failed start: the last error-looking line, else the last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if FAILED not in line and any(w in line.lower() for w in REASON_WORDS):
            return line
    return lines[-1] if lines else "no log output"
