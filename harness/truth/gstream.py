"""The cache's own account of hits and misses: XCache g-stream ``file_close`` records."""

from __future__ import annotations

import json
import struct
import threading
import time
from dataclasses import dataclass

_HEADER = struct.Struct(">cBHI")  # code, pseq, plen, stod
_GHEADER = struct.Struct(">iiq")  # tBeg, tEnd, sID


@dataclass(frozen=True)
class FileClose:
    """One g-stream record: what the cache says happened while a file was attached."""

    lfn: str
    size: int
    b_hit: int
    b_miss: int
    b_bypass: int
    remotes: tuple[str, ...]
    received: float
    attach_t: int = 0  # server clock, whole seconds: says which phase opened the file


def parse_gstream(packet: bytes, received: float) -> list[FileClose]:
    """All ``file_close`` records in one packet (other codes and events are ignored)."""
    if len(packet) < _HEADER.size + _GHEADER.size or packet[:1] != b"g":
        return []
    plen = _HEADER.unpack_from(packet)[2]
    body = packet[_HEADER.size + _GHEADER.size : plen].rstrip(b"\0").decode(errors="replace")
    records = []
    for line in body.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if item.get("event") == "file_close":
            records.append(_record(item, received))
    return records


def _record(item: dict[str, object], received: float) -> FileClose:
    def num(key: str) -> int:
        value = item.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    remotes = item.get("remotes")
    return FileClose(
        lfn=str(item.get("lfn", "")), size=num("size"), b_hit=num("b_hit"), b_miss=num("b_miss"),
        b_bypass=num("b_bypass"), remotes=tuple(map(str, remotes)) if isinstance(remotes, list) else (),
        received=received, attach_t=num("attach_t"),
    )


class GStreamCollector:
    """Collects file_close records; lets a phase wait until each of its files has one."""

    def __init__(self) -> None:
        self._records: list[FileClose] = []
        self._changed = threading.Condition()

    def on_packet(self, packet: bytes, received: float) -> None:
        records = parse_gstream(packet, received)
        if records:
            with self._changed:
                self._records.extend(records)
                self._changed.notify_all()

    def since(self, moment: float) -> list[FileClose]:
        with self._changed:
            return [r for r in self._records if r.received >= moment]

    def wait_for(self, lfns: set[str], since: float, timeout_s: float) -> list[FileClose]:
        """Records of files attached at or after ``since``; waits up to ``timeout_s`` for one per lfn.

        XCache detaches a file lazily (while its blocks are still being written, the detach
        is retried later), so a record can arrive after the next phase began: it is assigned
        by its attach time, not by when it arrived, and may be missing when the wait ends.
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                got = [r for r in self._records if r.attach_t >= int(since) and r.lfn in lfns]
                left = deadline - time.monotonic()
                if lfns <= {r.lfn for r in got} or left <= 0:
                    return got
                self._changed.wait(left)
