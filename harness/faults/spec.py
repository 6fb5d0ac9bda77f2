"""The faults file (``scenarios/faults.yaml``): fault cases and the outcome each one should have.

A case names a ``fault`` (what happens), the ``expect``ed outcome (what a correct cache and a
correct harness make of it) and ``why``; sizes and bounds are kept small so the whole file runs in
a few minutes. Mistakes are reported as ``file:line: field: problem`` (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from harness.errors import UserError
from harness.spec import CacheSettings, Frozen, Name, Size, _unique
from harness.specfile import Located, load_model

FAULTS_SCHEMA: Literal[1] = 1
Outcome = Literal["recovered", "failed-cleanly", "wrong-data", "hung"]
FaultKind = Literal["origin-kill", "origin-stall", "cache-restart", "disk-fill", "corrupt-block", "link-cut",
                    "coalescing", "token-expiry"]
# Faults that cut or stall something for ``hold_s`` and then restore it.
HELD = ("origin-stall", "link-cut")


class FaultCase(Frozen):
    """One fault on a fresh origin + cache (+ link relay for ``link-cut``)."""

    name: Name
    fault: FaultKind
    expect: Outcome
    why: str = Field("", description="what a correct server does, and why that is the expectation")
    size: Size = 16 * 1024**2
    readers: int = Field(1, ge=1, le=64, description="concurrent readers (coalescing)")
    bound_s: float = Field(60.0, gt=0, le=600, description="past this a read is classified hung and abandoned")
    hold_s: float = Field(3.0, ge=0, le=300, description="how long a stall or cut lasts; a token's lifetime")
    disk: Size | None = Field(None, description="cache data dir on a tmpfs of this size (disk-fill)")
    fill: float = Field(0.9, gt=0, lt=1, description="disk-fill: fill the cache disk up to this fraction")
    max_origin_ratio: float | None = Field(None, gt=0, description="origin bytes / file size must not exceed this")
    cache: CacheSettings = CacheSettings()

    @model_validator(mode="after")
    def _fault_needs(self) -> FaultCase:
        if self.fault == "disk-fill" and self.disk is None:
            raise Located(("disk",), "disk-fill needs the size of the cache disk (e.g. disk: 64MiB)")
        if self.disk is not None and self.size * 2 > self.disk:
            raise Located(("size",), "the file must fit the cache disk twice (size <= disk / 2)")
        if self.hold_s >= self.bound_s:
            raise Located(("hold_s",), "a fault held past the read's bound can only end as hung")
        return self


class FaultsFile(Frozen):
    schema_version: Literal[1] = FAULTS_SCHEMA
    name: Name
    description: str = ""
    seed: int = 7
    cases: tuple[FaultCase, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> FaultsFile:
        _unique("case", [c.name for c in self.cases])
        return self

    def select(self, only: tuple[str, ...]) -> tuple[FaultCase, ...]:
        """The cases named in ``only`` (all when empty), in file order."""
        names = {c.name for c in self.cases}
        unknown = [n for n in only if n not in names]
        if unknown:
            raise UserError(f"--only: no case named {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        return tuple(c for c in self.cases if not only or c.name in only)


def load_faults(path: Path) -> FaultsFile:
    """Load and validate a faults file; raises SpecError (file:line: field: problem)."""
    return load_model(path, FaultsFile)
