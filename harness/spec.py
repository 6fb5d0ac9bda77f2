"""Frozen, typed models of what users write: scenarios and their topology.

Everything is validated here, at the edge, so the layers below can trust their input.
Field names follow XRootD where one exists (``blocksize``, ``prefetch``, ``ram``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from harness.specfile import Located, load_model
from harness.units import parse_size

SCHEMA_VERSION: Literal[1] = 1
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
PATTERN_KINDS = ("full", "header", "sparse", "random", "scan")
PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,40}$")]
PhaseKind = Literal["direct", "direct-remote", "direct-near", "cache-cold", "cache-warm", "partial-warm"]
DIRECT_KINDS = ("direct", "direct-remote", "direct-near")
ProtocolName = Literal["root", "https"]
PatternKind = Literal["full", "header", "sparse", "random", "scan"]
FileFormat = Literal["raw", "fits", "root"]
CredentialKind = Literal["x509", "token", "proxy-file", "token-file"]
NO_CREDENTIAL = "none"
TOKEN_AUDIENCE_WORDS = ("any", "servers")


class Frozen(BaseModel):
    """Base of every spec model: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CacheSettings(Frozen):
    """XCache (pfc) settings; defaults chosen so cold reads are measurable (prefetch 0)."""

    blocksize: Size = 1024**2
    prefetch: int = Field(0, ge=0, le=128)
    ram: Size = Field(1024**3, ge=1024**3, description="pfc.ram; XRootD refuses less than 1g")
    diskusage: tuple[float, float] = (0.90, 0.95)
    # pfc.cschk words as XRootD parses them ([no]cache [no]net [no]tls | off); "both" is not one (5.5.3 refuses
    # it). "cache" crashes 5.5.3 at start (OssCsi) and is refused by 5.8.1 without a csi space: XRootD's, kept.
    cschk: Literal["off", "net", "tls", "cache", "cache net"] = "off"
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


class EndpointSpec(Frozen):
    """An already running server: its URL per protocol."""

    root: str | None = Field(None, pattern=r"^root://[^/\s]+$")
    https: str | None = Field(None, pattern=r"^https://[^/\s]+$")

    def url(self, protocol: str) -> str | None:
        return self.root if protocol == "root" else self.https


class ExternalSpec(Frozen):
    """Endpoints the harness reads but does not start (a production cache, a running testbed).

    Read-only unless ``allow_staging``: the dataset must already be there (staged by an earlier
    run with the same seed, so the content can still be verified).
    """

    origin: EndpointSpec | None = None
    cache: EndpointSpec | None = None
    ca_path: Path | None = None
    token_file: Path | None = None
    proxy_file: Path | None = None
    allow_staging: bool = False

    @model_validator(mode="after")
    def _something(self) -> ExternalSpec:
        if self.origin is None and self.cache is None:
            raise ValueError("external needs an origin or a cache endpoint")
        if self.allow_staging and (self.origin is None or self.origin.root is None):
            raise Located(("allow_staging",), "staging needs origin.root (data is written over root://)")
        for name in ("ca_path", "token_file", "proxy_file"):
            value = getattr(self, name)
            if value is not None and not value.exists():
                raise Located((name,), f"{value} does not exist")
        return self


class TopologySpec(Frozen):
    sites: tuple[SiteSpec, ...] = (SiteSpec(name="local"),)
    origins: tuple[OriginSpec, ...] = ()
    caches: tuple[CacheSpec, ...] = ()
    clients: tuple[ClientSpec, ...] = (ClientSpec(name="client"),)
    links: tuple[LinkSpec, ...] = ()
    external: ExternalSpec | None = Field(None, description="read running endpoints instead of starting servers")
    emulate_links: Literal["required", "where-possible"] = Field(
        "required", description="where-possible: a backend without link emulation runs unshaped (recorded)")

    @model_validator(mode="after")
    def _references_exist(self) -> TopologySpec:
        if not self.origins and self.external is None:
            raise Located(("origins",), "a topology needs at least one origin (or external endpoints)")
        if self.external is not None and (self.origins or self.caches):
            raise Located(("external",), "external endpoints replace origins and caches: give one or the other")
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
    """Files to stage: ``path`` may contain ``{i}`` (e.g. ``/smoke/f{i:03d}.bin``).

    ``size`` is the median at full scale; ``spread`` > 0 draws sizes log-normally around it
    (seeded, so a run is reproducible), bounded by ``min_size``/``max_size``.
    """

    path: str = Field(pattern=r"^/")
    count: int = Field(1, ge=1, le=100_000)
    size: Size
    spread: float = Field(0.0, ge=0, le=3, description="sigma of the log-normal size distribution")
    min_size: Size | None = None
    max_size: Size | None = None
    format: FileFormat = Field("raw", description="shape of the content: raw, fits (2880-byte header), root")
    origins: tuple[Name, ...] = Field((), description="origins holding these files (default: the first)")

    @model_validator(mode="after")
    def _template_ok(self) -> FileSet:
        try:
            names = {self.path.format(i=i) for i in range(min(self.count, 2))}
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"path template is invalid: {exc}") from None
        if self.count > 1 and len(names) < 2:
            raise ValueError("count > 1 needs '{i}' in the path so names differ")
        if self.min_size and self.max_size and self.min_size > self.max_size:
            raise Located(("min_size",), "min_size is larger than max_size")
        return self

    def paths(self) -> list[str]:
        return [self.path.format(i=i) for i in range(self.count)]


class DatasetSpec(Frozen):
    seed: int = 1
    files: tuple[FileSet, ...] = Field(min_length=1)


class PatternSpec(Frozen):
    """How one client reads one file (see docs: full, header, sparse, random, scan).

    ``kind`` defaults to the pattern's name when that is a kind (``patterns: {sparse: {...}}``).
    """

    kind: PatternKind | None = None
    header_size: Size = Field(64 * 1024, description="header/scan/sparse: bytes read at the start")
    footer_size: Size = Field(64 * 1024, description="sparse: the key list/StreamerInfo at the end")
    cluster_size: Size = Field(30 * 1000**2, description="sparse: bytes per cluster (ROOT fAutoFlush)")
    chunk_size: Size = Field(16 * 1024, description="sparse: one basket")
    fraction: float = Field(0.2, gt=0, le=1, description="sparse: share of each cluster read")
    groups: int = Field(2, ge=1, le=64, description="sparse: runs of adjacent branches read per cluster")
    reads: int = Field(16, ge=1, le=100_000, description="random: ranged reads per file")
    read_size: Size = Field(64 * 1024, description="random: bytes per ranged read")


class ScaleSpec(Frozen):
    """What ``--scale ci`` means for this scenario; ``full`` is the sizes as written."""

    default: str = Field("full", description="scale without --scale: ci, full or a factor")
    ci_factor: float = Field(0.01, gt=0, le=1)
    ci_max_count: int = Field(4, ge=1)
    min_size: Size = Field(1024**2, description="no file shrinks below this")
    ci_truth_wait_s: float = Field(3.0, ge=2, le=60, description=(
        "at ci scale, how long to wait after a phase for the cache's own records (files detach lazily, "
        "https ones later still); origin bytes decide the verdict regardless"))

    @field_validator("default")
    @classmethod
    def _default_ok(cls, value: str) -> str:
        if value not in ("ci", "full") and not re.fullmatch(r"\d+(\.\d+)?", value):
            raise ValueError(f"{value!r} is not ci, full or a factor such as 0.1")
        return value


class WorkloadSpec(Frozen):
    pattern: str = Field("full", description="name of the default pattern (a kind or a key of patterns)")
    patterns: dict[Name, PatternSpec] = {}
    request_size: Size = 8 * 1024**2
    in_flight: int = Field(8, ge=1, le=256)
    clients: int = Field(1, ge=1, le=256, description="concurrent client workers per phase")
    ramp_up_s: float = Field(0.0, ge=0, le=3600, description="clients start evenly spread over this time")
    popularity: Literal["each", "zipf"] = Field("each", description="each: every file read once per phase")
    zipf_s: float = Field(1.1, gt=0, le=5)
    reads_per_client: int | None = Field(None, ge=1, le=100_000, description="zipf: files each client reads")
    repetitions: int = Field(1, ge=1, le=100)

    @model_validator(mode="after")
    def _pattern_known(self) -> WorkloadSpec:
        for name, spec in self.patterns.items():
            if spec.kind is None and name not in PATTERN_KINDS:
                raise Located(("patterns", name, "kind"), f"pattern {name!r} needs a kind ({', '.join(PATTERN_KINDS)})")
        if self.pattern not in self.patterns and self.pattern not in PATTERN_KINDS:
            raise Located(("pattern",), _unknown_pattern(self.pattern, self))
        return self

    def pattern_spec(self, name: str | None = None) -> tuple[str, PatternSpec]:
        """(name, spec with its kind filled in) of ``name`` or of the default pattern."""
        name = name or self.pattern
        spec = self.patterns.get(name, PatternSpec())
        return name, spec if spec.kind is not None else spec.model_copy(update={"kind": name})


class CredentialSpec(Frozen):
    """A client's credential: generated per run by the testbed's PKI/issuer (``x509``, ``token``),
    or a file for external endpoints (``proxy-file``, ``token-file``)."""

    kind: CredentialKind
    vo: Name | None = Field(None, description="x509: VOMS VO (none: a plain proxy)")
    fqans: tuple[str, ...] = Field((), description="x509: VOMS groups/FQANs, e.g. /escape/reader")
    scopes: tuple[str, ...] = Field((), description="token: e.g. storage.read:/data")
    audience: tuple[str, ...] = Field(("servers",), description="token: any, servers (every https URL) or URLs")
    lifetime_s: int = Field(3600, ge=60, le=7 * 86400)
    path: Path | None = Field(None, description="proxy-file/token-file: the credential's file")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> CredentialSpec:
        generated = self.kind in ("x509", "token")
        if generated == (self.path is not None):
            raise Located(("path",), f"{self.kind} credentials {'take no' if generated else 'need a'} path")
        if self.path is not None and not self.path.exists():
            raise Located(("path",), f"{self.path} does not exist")
        if self.kind != "x509" and (self.vo or self.fqans):
            raise Located(("vo" if self.vo else "fqans",), "vo and fqans are for x509 credentials")
        if self.kind != "token" and self.scopes:
            raise Located(("scopes",), "scopes are for token credentials")
        if self.kind == "token" and not self.scopes:
            raise Located(("scopes",), "a token needs scopes, e.g. storage.read:/data")
        for i, word in enumerate(self.audience):
            if word not in TOKEN_AUDIENCE_WORDS and not word.startswith("https://"):
                raise Located(("audience", i), f"audience {word!r}: use any, servers or an https:// URL")
        return self


class AuthSpec(Frozen):
    """Authentication and authorisation on the testbed's servers (GSI/VOMS and tokens, TLS, https).

    Default rules: members of ``group`` and tokens with ``storage.read:/<top dir>`` read the
    dataset's top directories (also under fresh names); the caches fetch with their own credential.
    """

    cache_credential: Literal["robot-proxy", "robot-token"] = "robot-proxy"
    vo: Name = "escape"
    group: str = Field("/escape/reader", pattern=r"^/[A-Za-z0-9_./-]+$", description="VOMS group granted read")
    issuer: str = Field("https://localhost:8443/harness", pattern=r"^https://\S+[^/]$")
    authdb: tuple[str, ...] | None = Field(None, description="authdb rules of every server (default: see above)")

    @field_validator("authdb")
    @classmethod
    def _no_host_rules(cls, rules: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for rule in rules or ():
            words = rule.split()
            if words and (words[0] == "h" or "h:" in words):
                raise ValueError("host rules crash XRootD 5.5.3 with https or SciTokens (#1986, PR #2128)")
        return rules


class PhaseSpec(Frozen):
    kind: PhaseKind
    name: Name | None = None
    via: Name | None = Field(None, description="cache (or origin for direct) to read through")
    pattern: str | None = Field(None, description="pattern of this phase (default: the workload's)")
    protocols: tuple[ProtocolName, ...] = Field(("root",), min_length=1)
    credentials: tuple[str, ...] = Field((), description="client k uses credentials[k % n]; 'none': no credential")
    expect: Literal["allow", "deny"] = Field("allow", description="deny: every read must be refused")

    def credential_of(self, client: int) -> str:
        return self.credentials[client % len(self.credentials)] if self.credentials else NO_CREDENTIAL

    @property
    def label(self) -> str:
        return self.name or self.kind

    @property
    def direct(self) -> bool:
        return self.kind in DIRECT_KINDS


class Scenario(Frozen):
    """A complete, validated scenario file.

    ``profile`` names an experiment profile (``harness/profiles/<name>.yaml``): its dataset,
    workload and scale are the defaults this file overrides, key by key.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    name: Name
    description: str = ""
    profile: Name | None = None
    topology: TopologySpec
    dataset: DatasetSpec
    workload: WorkloadSpec = WorkloadSpec()
    scale: ScaleSpec = ScaleSpec()
    phases: tuple[PhaseSpec, ...] = Field(min_length=1)
    auth: AuthSpec | None = Field(None, description="start the servers with authentication and authorisation")
    credentials: dict[Name, CredentialSpec] = Field({}, description="credentials the phases' clients use")

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("profile"), str):
            return data
        return _merge(load_profile(data["profile"]), data)

    @model_validator(mode="after")
    def _phases_ok(self) -> Scenario:
        top = self.topology
        external = top.external
        names = {o.name for o in top.origins} | {c.name for c in top.caches}
        _unique("phase", [p.label for p in self.phases])
        for i, phase in enumerate(self.phases):
            if phase.via is not None:
                _member(phase.via, names, ("phases", i, "via"))
            if phase.pattern is not None and phase.pattern not in self.workload.patterns \
                    and phase.pattern not in PATTERN_KINDS:
                raise Located(("phases", i, "pattern"), _unknown_pattern(phase.pattern, self.workload))
            has_cache = bool(top.caches) if external is None else external.cache is not None
            if not phase.direct and not has_cache:
                raise Located(("phases", i, "kind"), f"{phase.kind} reads through a cache but the topology has none")
            if external is not None:
                self._external_phase_ok(i, phase, external)
        for i, fileset in enumerate(self.dataset.files):
            for j, origin in enumerate(fileset.origins):
                _member(origin, {o.name for o in top.origins}, ("dataset", "files", i, "origins", j))
        self._credentials_ok()
        return self

    def _credentials_ok(self) -> None:
        """Phases name known credentials; generated ones need the testbed's PKI and issuer (``auth``)."""
        if self.auth is not None and self.topology.external is not None:
            raise Located(("auth",), "auth configures the servers the harness starts; external endpoints have "
                                     "their own (use proxy-file/token-file credentials)")
        for name, cred in self.credentials.items():
            if cred.kind in ("x509", "token") and self.auth is None:
                raise Located(("credentials", name, "kind"), f"a generated {cred.kind} credential needs the "
                                                             "testbed's PKI and issuer: add 'auth:'")
        known = {*self.credentials, NO_CREDENTIAL}
        for i, phase in enumerate(self.phases):
            for j, name in enumerate(phase.credentials):
                _member(name, known, ("phases", i, "credentials", j))

    @staticmethod
    def _external_phase_ok(i: int, phase: PhaseSpec, external: ExternalSpec) -> None:
        endpoint = external.origin if phase.direct else external.cache
        for protocol in phase.protocols:
            if endpoint is None or endpoint.url(protocol) is None:
                raise Located(("phases", i, "protocols"),
                              f"external {'origin' if phase.direct else 'cache'} has no {protocol} URL")
        if phase.kind in ("cache-cold", "partial-warm") and not external.allow_staging:
            raise Located(("phases", i, "kind"), f"{phase.kind} needs cold data: set allow_staging: true "
                                                 "(external endpoints are read-only otherwise)")


def load_profile(name: str) -> dict[str, Any]:
    """The raw mapping of a shipped profile (a partial scenario: dataset, workload, scale)."""
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise Located(("profile",), f"no profile {name!r} (known: {known})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` wins key by key; mappings merge recursively, lists replace."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def _unknown_pattern(name: str, workload: WorkloadSpec) -> str:
    known = sorted({*PATTERN_KINDS, *workload.patterns})
    return f"unknown pattern {name!r} (known: {', '.join(known)})"


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
