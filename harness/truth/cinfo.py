"""The cache's files on disk: ``.cinfo`` records read with ``xrdpfc_print -j``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import HarnessError


@dataclass(frozen=True)
class CinfoAccess:
    """Totals of the access records of one file newer than a given record number."""

    lfn: str
    file_size: int
    complete_pct: float
    b_hit: int
    b_miss: int
    b_bypass: int
    last_record: int


def parse_cinfo(text: str, lfn: str, after_record: int = 0) -> CinfoAccess:
    """Sum the access records numbered above ``after_record`` (earlier phases' accesses)."""
    doc = json.loads(text)
    fresh = [a for a in doc.get("accesses", []) if int(a.get("record", 0)) > after_record]
    last = max((int(a.get("record", 0)) for a in doc.get("accesses", [])), default=after_record)
    return CinfoAccess(
        lfn=lfn, file_size=int(doc.get("file_size", 0)),
        complete_pct=float(doc.get("state_percentage", 0.0)),
        b_hit=sum(int(a.get("B_hit", 0)) for a in fresh),
        b_miss=sum(int(a.get("B_miss", 0)) for a in fresh),
        b_bypass=sum(int(a.get("B_bypass", 0)) for a in fresh),
        last_record=last,
    )


def read_cinfo(run: Callable[[list[str]], str], cache_root: str, lfn: str, after_record: int) -> CinfoAccess | None:
    """Read one file's cinfo through ``run`` (a backend's exec); None if it is not cached."""
    try:
        text = run(["xrdpfc_print", "-j", f"{cache_root.rstrip('/')}{lfn}.cinfo"])
        return parse_cinfo(text, lfn, after_record)
    except (HarnessError, OSError, ValueError):  # not cached (yet), or unreadable: a finding, not a crash
        return None
