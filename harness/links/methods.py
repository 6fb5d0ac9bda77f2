"""Link emulation methods: which ones this host offers, the link spec, and the relay launcher.

Preference (architecture.md, "Links"): netem where the kernel has it; otherwise tbf/htb for
the rate plus a delayer (NFQUEUE or the relay); the user-space relay always works, needs no
privileges and is the method used on hosts without netem.

>>> spec = LinkSpec("near", "far", rtt_ms=30, rate_mbit=100)
>>> spec.one_way_delay_ms
15.0
>>> "relay" in available_methods()
True
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from harness.errors import ServiceNotReady, ServiceStartError, UserError
from harness.links.relay import READY_PREFIX

#: Every method ``available_methods`` can report, most preferred first.
METHODS = ("netem", "tbf", "nfqueue", "relay")

# Each probe runs in a network namespace of its own (``unshare --net``) that vanishes when
# the command exits, so nothing is left behind on the host whatever happens.
_PROBES: dict[str, list[str]] = {
    "netem": ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
    "tbf": [
        "tc",
        "qdisc",
        "add",
        "dev",
        "lo",
        "root",
        "tbf",
        "rate",
        "100mbit",
        "burst",
        "32kbit",
        "latency",
        "400ms",
    ],
    "nfqueue": ["iptables", "-A", "OUTPUT", "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"],
}


@dataclass(frozen=True)
class LinkSpec:
    """A link between sites ``a`` and ``b``: round-trip time, rate per direction, loss."""

    a: str
    b: str
    rtt_ms: float
    rate_mbit: float
    loss: float = 0.0

    def __post_init__(self) -> None:
        name = f"link {self.a}-{self.b}"
        if self.rtt_ms < 0:
            raise UserError(f"{name}: rtt_ms must be >= 0, got {self.rtt_ms}")
        if self.rate_mbit <= 0:
            raise UserError(f"{name}: rate_mbit must be > 0, got {self.rate_mbit}")
        if not 0.0 <= self.loss < 1.0:
            raise UserError(f"{name}: loss must be in [0, 1), got {self.loss}")

    @property
    def one_way_delay_ms(self) -> float:
        return self.rtt_ms / 2.0


def _probe_in_fresh_netns(cmd: list[str], timeout_s: float) -> bool:
    if shutil.which("unshare") is None or shutil.which(cmd[0]) is None:
        return False
    try:
        done = subprocess.run(
            ["unshare", "--net", "--", *cmd],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available_methods(timeout_s: float = 5.0) -> list[str]:
    """Methods this host supports right now, in ``METHODS`` order; always ends with "relay".

    Kernel facilities are tried in a throwaway network namespace, which needs root
    (CAP_SYS_ADMIN and CAP_NET_ADMIN); without it only "relay" is reported.
    """
    found = [m for m, cmd in _PROBES.items() if _probe_in_fresh_netns(cmd, timeout_s)]
    return [*found, "relay"]


def choose_method(available: Sequence[str]) -> str:
    """netem when present (transparent, kernel-accurate), else the relay."""
    return "netem" if "netem" in available else "relay"


@dataclass(frozen=True)
class RelayReady:
    """What the relay reported in its ready line."""

    listen: tuple[tuple[str, int], ...]
    probe: tuple[str, int] | None
    info: dict[str, object]


def parse_ready_line(line: str) -> RelayReady:
    """Parse ``relay ready {json}`` as printed by ``harness.links.relay``."""
    if not line.startswith(READY_PREFIX):
        raise ValueError(f"not a relay ready line: {line!r}")
    info = json.loads(line[len(READY_PREFIX) :])
    listen = tuple((str(e["listen"][0]), int(e["listen"][1])) for e in info["listen"])
    probe = (str(info["probe"][0]), int(info["probe"][1])) if info["probe"] else None
    return RelayReady(listen=listen, probe=probe, info=info)


class RelayProcess:
    """The relay as a child process, ready once it printed its ready line.

    >>> with RelayProcess(["127.0.0.1:0=127.0.0.1:1094"], rtt_ms=30, rate_mbit=100) as r:  # doctest: +SKIP
    ...     port = r.ready.listen[0][1]
    """

    def __init__(
        self,
        forwards: Sequence[str],
        *,
        rtt_ms: float,
        rate_mbit: float | None,
        probe: str | None = "127.0.0.1:0",
        python: str = sys.executable,
        ready_timeout_s: float = 10.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.argv = [python, "-m", "harness.links.relay", "--rtt-ms", f"{rtt_ms:g}"]
        self.argv += ["--rate-mbit", f"{rate_mbit or 0:g}"]
        for fwd in forwards:
            self.argv += ["--listen", fwd]
        if probe is not None:
            self.argv += ["--probe-port", probe]
        self.argv += list(extra_args)
        self.ready_timeout_s = ready_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._ready: RelayReady | None = None
        #: The relay's stderr (errors, the ``relay stopped`` stats line), kept after stop().
        self.stderr_at_exit = ""

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("relay not started")
        return self._proc.pid

    @property
    def ready(self) -> RelayReady:
        if self._ready is None:
            raise RuntimeError("relay not started")
        return self._ready

    def start(self) -> RelayReady:
        # The child imports harness.links.relay from this very tree, wherever the cwd is.
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives until stop())
        self._proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        try:
            line = self._read_ready_line()
            self._ready = parse_ready_line(line)
        except BaseException:
            self.stop()
            raise
        return self._ready

    def _read_ready_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        deadline = time.monotonic() + self.ready_timeout_s
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    err = ServiceNotReady(f"relay not ready after {self.ready_timeout_s:g} s: {self.argv}")
                    err.add_note(self.stderr_text())
                    raise err
                if sel.select(remaining):
                    chunk = os.read(out.fileno(), 4096)
                    if not chunk:
                        err2 = ServiceStartError(f"relay exited before ready (rc={self._proc.wait(5)}): {self.argv}")
                        err2.add_note(self.stderr_text())
                        raise err2
                    buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        if proc.stdout is not None:
            proc.stdout.close()
        self.stderr_at_exit = self.stderr_text()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return proc.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
