"""Readers: how the harness reads data and records each operation.

Every reader executes a ``harness.plan.ReadPlan`` against a ``ReadTarget`` and returns one
``OpRecord`` (start, time to first byte, duration, bytes, verification, error); it never raises
for a failed read, so a phase can count its errors.
"""

from __future__ import annotations

from typing import Protocol

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget


class Reader(Protocol):
    name: str  # recorded in OpRecord.reader: xroot | https | xrdcp | curl

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord: ...
