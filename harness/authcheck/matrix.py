"""The auth matrix file (``scenarios/auth-matrix.yaml``): identities, servers, cases, as frozen models.

A case says who (``credential``, an identity) does what (``operation`` on ``path`` over
``protocol``) through which server (``route``: the origin, or the cache with the file not yet
cached or already cached) and what a correct server answers (``expected``). A bug known in
some XRootD versions is declared with ``known_bug`` and then reported as an expected failure,
never as a pass. Mistakes are reported as ``file:line: field: problem`` (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from harness.spec import Frozen, Name, Size
from harness.specfile import Located, load_model

MATRIX_SCHEMA: Literal[1] = 1
Expected = Literal["allow", "deny", "auth-fail"]
Actual = Literal["allow", "deny", "auth-fail", "error"]
Protocol = Literal["root", "https"]
Operation = Literal["read", "write", "stat"]
Route = Literal["origin", "cache-cold", "cache-warm"]
CacheCredential = Literal["robot-proxy", "robot-token"]
ProxyKind = Literal["voms", "plain", "expired", "expired_ac", "untrusted_ca", "untrusted_voms"]
SigningKind = Literal["valid", "unknown_key", "wrong_key", "tampered", "alg_none", "hs256"]
AUDIENCE_WORDS = ("server", "origin", "cache", "any")
CaseId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$")]


def _not_origin(name: str) -> str:
    if name == "origin":
        raise ValueError("'origin' names the origin server; choose another configuration name")
    return name


# Also the name of its cache server: short, since xrootd's admin socket path holds it twice.
ConfigName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,15}$"), AfterValidator(_not_origin)]
DataPath = Annotated[str, Field(pattern=r"^/[^\s?#]*$")]
ROBOT_USER = "xcache-robot"
VOMS_PROXIES = ("voms", "expired_ac", "untrusted_voms")
_TOKEN_FIELDS = ("subject", "scopes", "audience", "groups", "lifetime_s", "age_s", "nbf_delay_s", "issuer",
                 "signing", "header")
_X509_FIELDS = ("user", "proxy")


def _authdb_line(line: str) -> str:
    words = line.split()
    if not words or words[0].startswith("#"):
        return line
    if words[0] == "h" or "h:" in words:
        raise ValueError("host rules crash XRootD 5.5.3 with https or SciTokens (#1986, PR #2128)")
    if words[0] not in {"u", "g", "o", "r", "t", "n", "=", "x", "s"}:
        raise ValueError(f"{words[0]!r} is not an authdb record type (u g o r t n = x s)")
    return line


AuthdbLine = Annotated[str, AfterValidator(_authdb_line)]


def _scope(scope: str) -> str:
    if not scope or any(c.isspace() for c in scope):
        raise ValueError(f"scope {scope!r} must be one non-empty word")
    return scope


def _audience(aud: str) -> str:
    if aud not in AUDIENCE_WORDS and "://" not in aud:
        raise ValueError(f"audience {aud!r}: use {', '.join(AUDIENCE_WORDS)} or a URL")
    return aud


class User(Frozen):
    """A grid user: one certificate; its proxies (voms, plain, expired, ...) are made for every run."""

    vo: Name | None = None
    fqans: tuple[str, ...] = Field((), description="groups or FQANs, e.g. /escape/cta/Role=production")
    revoked: bool = Field(False, description="listed in the CA's CRL")

    @model_validator(mode="after")
    def _fqans_in_vo(self) -> User:
        for i, fqan in enumerate(self.fqans):
            if not self.vo:
                raise Located(("fqans", i), "FQANs need a vo")
            if not (fqan == f"/{self.vo}" or fqan.startswith(f"/{self.vo}/")):
                raise Located(("fqans", i), f"{fqan!r} is outside VO {self.vo!r}")
        return self


class Identity(Frozen):
    """A client credential. ``kind: x509`` is a proxy of a user; ``kind: token`` a WLCG token minted
    per case (so expiry and the server's 60 s ACL cache never mix cases); ``kind: none`` no credential.

    Token audiences: ``server`` (the server the case talks to), ``origin``, ``cache``, ``any``
    (the WLCG any-audience) or a literal URL. ``issuer``: omitted = the trusted issuer, or a URL.
    """

    kind: Literal["x509", "token", "none"]
    description: str = ""
    user: Name | None = None
    proxy: ProxyKind | None = Field(None, description="default: voms if the user has a vo, else plain")
    subject: str = "harness-user"
    scopes: tuple[Annotated[str, AfterValidator(_scope)], ...] | None = None
    audience: tuple[Annotated[str, AfterValidator(_audience)], ...] = ("server",)
    groups: tuple[str, ...] = ()
    lifetime_s: int = Field(1200, ge=1, le=30 * 24 * 3600)
    age_s: int = Field(0, ge=-24 * 3600, le=365 * 24 * 3600, description="iat = now - age_s")
    nbf_delay_s: int = Field(0, ge=0, le=365 * 24 * 3600)
    issuer: str | None = Field(None, pattern=r"^https?://[^\s]+[^/\s]$")
    signing: SigningKind = "valid"
    header: str = Field("Authorization", pattern=r"^[A-Za-z][A-Za-z0-9-]*$", description="https header name")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Identity:
        foreign = {"x509": _TOKEN_FIELDS, "token": _X509_FIELDS, "none": _TOKEN_FIELDS + _X509_FIELDS}[self.kind]
        for name in foreign:
            if name in self.model_fields_set:
                raise Located((name,), f"not a field of kind {self.kind} identities")
        if self.kind == "x509" and self.user is None:
            raise Located(("user",), "x509 identities need a user (one of the matrix's users)")
        if self.kind == "token" and self.scopes is None:
            raise Located(("scopes",), "token identities need scopes ([] for a token without a scope claim)")
        return self


class ServerRules(Frozen):
    authdb: tuple[AuthdbLine, ...] = Field(min_length=1)


class Robot(Frozen):
    """The cache's own credential towards the origin (5.5.3 forwards no user proxy)."""

    vo: Name = "escape"
    fqans: tuple[str, ...] = ("/escape/xcache",)
    scopes: tuple[Annotated[str, AfterValidator(_scope)], ...] = ("storage.read:/",)
    subject: str = "xcache-robot"


class Servers(Frozen):
    issuer: str = Field("https://localhost:8443/issuer", pattern=r"^https://[^\s]+[^/\s]$",
                        description="trusted token issuer; its keys are seeded into the servers' key caches")
    base_path: DataPath = "/data"
    origin: ServerRules
    cache: ServerRules
    robot: Robot = Robot()


class Configuration(Frozen):
    """One cache in front of the shared origin; each configuration gets its own cache server."""

    description: str = ""
    cache_credential: CacheCredential = "robot-proxy"
    cache_authorize: bool = Field(True, description="false: authentication only (a negative control)")
    primer: Name | None = Field(None, description="primer identity for this cache (default: the matrix's)")


class KnownBug(Frozen):
    versions: tuple[str, ...] = Field(min_length=1, description="XRootD versions (fnmatch patterns)")
    actual: Actual
    reason: str = Field(min_length=1)


class Case(Frozen):
    id: CaseId
    name: str = Field(min_length=1)
    credential: Name
    protocol: Protocol
    path: DataPath
    operation: Operation = "read"
    route: Route
    config: ConfigName | None = Field(None, description="default: the first configuration")
    expected: Expected
    known_bug: KnownBug | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.known_bug is not None and self.known_bug.actual == self.expected:
            raise Located(("known_bug", "actual"), "equals expected: a known bug is a different result")
        if self.protocol == "https" and any(p in (".", "..") for p in self.path.split("/")):
            raise Located(("path",), "https clients normalise dot segments: use protocol root")
        if self.route == "cache-warm" and self.operation == "write":
            raise Located(("operation",), "a write has no warm file: use route cache-cold")
        return self


class AuthMatrix(Frozen):
    """A complete, validated auth matrix."""

    schema_version: Literal[1] = MATRIX_SCHEMA
    name: Name
    description: str = ""
    users: dict[Name, User] = Field(default_factory=dict)
    identities: dict[Name, Identity] = Field(min_length=1)
    servers: Servers
    configurations: dict[ConfigName, Configuration] = Field(default_factory=lambda: {"default": Configuration()},
                                                           min_length=1)
    files: tuple[DataPath, ...] = Field(min_length=1, description="staged on the origin before the cases run")
    file_size: Size = 64 * 1024
    primer: Name | None = Field(None, description="identity that reads a file into the cache for cache-warm cases")
    cases: tuple[Case, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> AuthMatrix:
        if ROBOT_USER in self.users:
            raise Located(("users", ROBOT_USER), "this name is reserved for the cache's robot")
        for name, identity in self.identities.items():
            if identity.user is not None and identity.user not in self.users:
                raise Located(("identities", name, "user"), _unknown(identity.user, self.users))
            if identity.user is not None and identity.proxy in VOMS_PROXIES and not self.users[identity.user].vo:
                raise Located(("identities", name, "proxy"), f"user {identity.user!r} has no vo, so no VOMS proxy")
        if self.primer is not None and self.primer not in self.identities:
            raise Located(("primer",), _unknown(self.primer, self.identities))
        for name, config in self.configurations.items():
            if config.primer is not None and config.primer not in self.identities:
                raise Located(("configurations", name, "primer"), _unknown(config.primer, self.identities))
        seen: set[str] = set()
        for i, case in enumerate(self.cases):
            self._check_case(i, case, seen)
        return self

    def _check_case(self, i: int, case: Case, seen: set[str]) -> None:
        if case.id in seen:
            raise Located(("cases", i, "id"), f"{case.id!r} is used twice")
        seen.add(case.id)
        if case.credential not in self.identities:
            raise Located(("cases", i, "credential"), _unknown(case.credential, self.identities))
        if case.config is not None and case.config not in self.configurations:
            raise Located(("cases", i, "config"), _unknown(case.config, self.configurations))
        if case.route == "cache-warm":
            if self.primer_of(case) is None:
                raise Located(("cases", i, "route"), "cache-warm cases need a primer identity (top-level primer)")
            if case.path not in self.files:
                raise Located(("cases", i, "path"), "a cache-warm file must be listed in files")

    def config_of(self, case: Case) -> str:
        return case.config or next(iter(self.configurations))

    def primer_of(self, case: Case) -> str | None:
        """Who reads the file into the cache before a cache-warm case."""
        return self.configurations[self.config_of(case)].primer or self.primer


def load_matrix(path: Path) -> AuthMatrix:
    """Load and validate an auth matrix; raises SpecError (file:line: field: problem)."""
    return load_model(path, AuthMatrix)


def _unknown(name: str, known: Iterable[str]) -> str:
    return f"{name!r} is not defined (known: {', '.join(sorted(known))})"
