"""Frozen, typed models of what users write: scenarios and their topology.

Everything is validated here, at the edge, so the layers below can trust their input.
Field names follow XRootD where one exists (``blocksize``, ``prefetch``, ``ram``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from harness.specfile import Located, load_model
from harness.units import parse_size

SCHEMA_VERSION: Literal[1] = 1
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,40}$")]
PhaseKind = Literal["direct", "cache-cold", "cache-warm"]


class Frozen(BaseModel):
    """Base of every spec model: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CacheSettings(Frozen):
    """XCache (pfc) settings; defaults chosen so cold reads are measurable (prefetch 0)."""

    blocksize: Size = 1024**2
    prefetch: int = Field(0, ge=0, le=128)
    ram: Size = Field(1024**3, ge=1024**3, description="pfc.ram; XRootD refuses less than 1g")
    diskusage: tuple[float, float] = (0.90, 0.95)
    cschk: Literal["off", "net", "cache", "both"] = "off"
    extra: tuple[str, ...] = Field((), description="extra config lines appended verbatim")

    @field_validator("blocksize")
    @classmethod
    def _blocksize_ok(cls, value: int) -> int:
        if value % 4096 or not 4096 <= value <= 512 * 1024**2:
            raise ValueError("blocksize must be a multiple of 4k between 4k and 512M")
        return value

    @field_validator("diskusage")
    @classmethod
    def _diskusage_ok(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1] <= 1:
            raise ValueError("diskusage must be two fractions 0 < low < high <= 1")
        return value


class SiteSpec(Frozen):
    name: Name


class OriginSpec(Frozen):
    name: Name
    site: Name = "local"


class CacheSpec(Frozen):
    name: Name
    site: Name = "local"
    origin: Name
    settings: CacheSettings = CacheSettings()


class ClientSpec(Frozen):
    name: Name
    site: Name = "local"


class LinkSpec(Frozen):
    """An emulated WAN link between two sites."""

    a: Name
    b: Name
    rtt_ms: float = Field(ge=0, le=1000)
    rate_mbit: float = Field(gt=0, le=100_000)
    loss: float = Field(0.0, ge=0, lt=1)


class TopologySpec(Frozen):
    sites: tuple[SiteSpec, ...] = (SiteSpec(name="local"),)
    origins: tuple[OriginSpec, ...] = Field(min_length=1)
    caches: tuple[CacheSpec, ...] = ()
    clients: tuple[ClientSpec, ...] = (ClientSpec(name="client"),)
    links: tuple[LinkSpec, ...] = ()

    @model_validator(mode="after")
    def _references_exist(self) -> TopologySpec:
        services: list[OriginSpec | CacheSpec | ClientSpec] = [*self.origins, *self.caches, *self.clients]
        _unique("service", [s.name for s in services])
        sites = _unique("site", [s.name for s in self.sites])
        origins = {o.name for o in self.origins}
        for group in ("origins", "caches", "clients"):
            for i, item in enumerate(getattr(self, group)):
                _member(item.site, sites, (group, i, "site"))
        for i, cache in enumerate(self.caches):
            _member(cache.origin, origins, ("caches", i, "origin"))
        for i, link in enumerate(self.links):
            _member(link.a, sites, ("links", i, "a"))
            _member(link.b, sites, ("links", i, "b"))
        return self

    def cache(self, name: str) -> CacheSpec:
        return next(c for c in self.caches if c.name == name)


class FileSet(Frozen):
    """Files to stage: ``path`` may contain ``{i}`` (e.g. ``/smoke/f{i:03d}.bin``)."""

    path: str = Field(pattern=r"^/")
    count: int = Field(1, ge=1, le=100_000)
    size: Size

    @model_validator(mode="after")
    def _template_ok(self) -> FileSet:
        try:
            names = {self.path.format(i=i) for i in range(min(self.count, 2))}
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"path template is invalid: {exc}") from None
        if self.count > 1 and len(names) < 2:
            raise ValueError("count > 1 needs '{i}' in the path so names differ")
        return self

    def paths(self) -> list[str]:
        return [self.path.format(i=i) for i in range(self.count)]


class DatasetSpec(Frozen):
    seed: int = 1
    files: tuple[FileSet, ...] = Field(min_length=1)


class WorkloadSpec(Frozen):
    pattern: Literal["full"] = "full"
    request_size: Size = 8 * 1024**2
    in_flight: int = Field(8, ge=1, le=256)


class PhaseSpec(Frozen):
    kind: PhaseKind
    name: Name | None = None
    via: Name | None = Field(None, description="cache (or origin for direct) to read through")

    @property
    def label(self) -> str:
        return self.name or self.kind


class Scenario(Frozen):
    """A complete, validated scenario file."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: Name
    description: str = ""
    topology: TopologySpec
    dataset: DatasetSpec
    workload: WorkloadSpec = WorkloadSpec()
    phases: tuple[PhaseSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _phases_ok(self) -> Scenario:
        names = {o.name for o in self.topology.origins} | {c.name for c in self.topology.caches}
        _unique("phase", [p.label for p in self.phases])
        for i, phase in enumerate(self.phases):
            if phase.via is not None:
                _member(phase.via, names, ("phases", i, "via"))
            if phase.kind != "direct" and not self.topology.caches:
                raise Located(("phases", i, "kind"), f"{phase.kind} reads through a cache but the topology has none")
        return self


def load_scenario(path: Path) -> Scenario:
    """Load and validate a scenario file; raises SpecError (file:line: field: problem)."""
    return load_model(path, Scenario)


def _unique(what: str, names: list[str]) -> set[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} name {name!r} is used twice")
        seen.add(name)
    return seen


def _member(name: str, names: set[str], loc: tuple[str | int, ...]) -> None:
    if name not in names:
        raise Located(loc, f"{name!r} is not defined (known: {', '.join(sorted(names))})")
