"""Origin-side ground truth: bytes sent, from XRootD summary monitoring (``xrd.report``).

Parsed with regular expressions on purpose: 5.5.3 emits a stray ``>`` in the pfc section,
so the XML is not always well formed.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from harness.errors import TopologyError

_TOD = re.compile(rb'<statistics tod="(\d+)"')
_SRC = re.compile(rb'src="([^"]+)"')
_LINK_OUT = re.compile(rb'<stats id="link">.*?<out>(\d+)</out>', re.S)
_LINK_IN = re.compile(rb'<stats id="link">.*?<in>(\d+)</in>', re.S)


@dataclass(frozen=True)
class LinkCounters:
    """Cumulative link counters of one server at second ``tod`` (server clock)."""

    source: str
    tod: int
    bytes_out: int
    bytes_in: int


def parse_summary(packet: bytes) -> LinkCounters | None:
    """Extract the link counters from one summary packet, or None if it has none."""
    tod, out, inn = _TOD.search(packet), _LINK_OUT.search(packet), _LINK_IN.search(packet)
    if not (tod and out and inn):
        return None
    src = _SRC.search(packet)
    source = src.group(1).decode() if src else "?"
    return LinkCounters(source, int(tod.group(1)), int(out.group(1)), int(inn.group(1)))


class SummaryCollector:
    """Keeps the newest counters per source; waits for a report newer than a moment."""

    def __init__(self) -> None:
        self._latest: dict[str, LinkCounters] = {}
        self._changed = threading.Condition()

    def on_packet(self, packet: bytes, _received: float) -> None:
        counters = parse_summary(packet)
        if counters is None:
            return
        with self._changed:
            self._latest[counters.source] = counters
            self._changed.notify_all()

    def sources(self) -> list[str]:
        with self._changed:
            return sorted(self._latest)

    def after(self, moment: float, timeout_s: float, port: int | None = None) -> LinkCounters:
        """The first report (of the server on ``port``, or the only one) stamped after ``moment``.

        Reports are stamped in whole seconds, so a report with tod > moment covers every
        byte sent up to ``moment``.
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = self._pick(port)
                if found is not None and found.tod > moment:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TopologyError(f"no summary monitoring report from port {port or '?'} "
                                        f"within {timeout_s:.0f} s (is xrd.report configured?)")
                self._changed.wait(left)

    def _pick(self, port: int | None) -> LinkCounters | None:
        if port is not None:
            # src is "host:port" with the server's own host name; the port identifies it
            return next((c for s, c in self._latest.items() if s.endswith(f":{port}")), None)
        return next(iter(self._latest.values()), None) if len(self._latest) == 1 else None
