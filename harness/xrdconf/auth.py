"""The auth part of origin and XCache configs for XRootD 5.5.3: GSI+VOMS and ztn+SciTokens on the
root:// port, XrdHttp with TLS on the same port, the authdb and scitokens.cfg texts, and the
process environment (including how a cache logs in to its origin).

Pure: it returns text and mappings; the caller writes the files. Every directive was run against
the packaged 5.5.3 servers (docs/auth-verified.md). Most mistakes here are silent (a warning in
the log and authentication quietly off), so each line carries the reason it is written this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

AuthRole = Literal["origin", "cache"]
UpstreamDesign = Literal["robot-proxy", "robot-token"]
AUTHDB_FILE = "authdb"
SCITOKENS_FILE = "scitokens.cfg"
_TRACES = [
    "# login lines name the identity (DN hash or token sub); no pss/http traces: they can log CGI tokens",
    "xrootd.trace emsg login stall redirect",
    "ofs.trace all",
]


@dataclass(frozen=True)
class Issuer:
    """One trusted token issuer; ``url`` must equal the tokens' ``iss`` exactly (no trailing slash)."""

    name: str
    url: str
    base_path: str = "/data"  # scopes are relative to it: storage.read:/cta -> /data/cta


@dataclass(frozen=True)
class AuthPaths:
    """Where one server finds its credentials and auth files, as the server sees them."""

    host_cert: str
    host_key: str
    certdir: str  # hashed CA dir with <hash>.0 and the CRL <hash>.r0 (X509_CERT_DIR)
    vomsdir: str  # <vo>/<host>.lsc files (X509_VOMS_DIR)
    auth_dir: str  # authdb and scitokens.cfg are rendered into this directory
    key_cache: str  # XDG_CACHE_HOME: scitokens-cpp's JWKS cache (seeded, so nothing is fetched)


@dataclass(frozen=True)
class Upstream:
    """How a cache authenticates to its origin: its own credential (5.5.3 forwards no user proxy)."""

    design: UpstreamDesign
    credential: str  # robot proxy file (robot-proxy) or token file (robot-token); 0600, server user


@dataclass(frozen=True)
class ServerAuth:
    """The auth settings of one server; ``authorize=False`` keeps authentication only (negative control)."""

    role: AuthRole
    paths: AuthPaths
    authdb: tuple[str, ...]
    issuers: tuple[Issuer, ...] = ()
    audiences: tuple[str, ...] = ()
    authorize: bool = True
    upstream: Upstream | None = None
    http: bool = True


@dataclass(frozen=True)
class RenderedAuth:
    """Config lines to append, environment for the server process, files (path -> text) to write first."""

    config: str
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)


def render_auth(spec: ServerAuth) -> RenderedAuth:
    """Everything auth-related one server needs; append ``config`` to the rendered server config."""
    files: dict[str, str] = {}
    lines = _tls(spec.paths, spec.http) + _authentication(spec.paths)
    if spec.authorize:
        authdb, scitokens = _file(spec.paths, AUTHDB_FILE), _file(spec.paths, SCITOKENS_FILE)
        lines += _authorization(authdb, scitokens)
        files[authdb] = render_authdb(spec.role, spec.authdb)
        files[scitokens] = render_scitokens_cfg(spec.audiences, spec.issuers)
    else:
        lines += _no_authorization()
    lines += _TRACES
    return RenderedAuth("\n".join(lines) + "\n", server_env(spec), files)


def server_env(spec: ServerAuth) -> dict[str, str]:
    """Process environment: CA and VOMS dirs, the key cache, and for a cache its robot credential."""
    env = {
        "X509_CERT_DIR": spec.paths.certdir,  # verifies clients, and the origin's TLS for a cache's client
        "X509_VOMS_DIR": spec.paths.vomsdir,
        "XDG_CACHE_HOME": spec.paths.key_cache,
    }
    if spec.upstream is not None:
        env |= upstream_env(spec.upstream)
    return env


def upstream_env(upstream: Upstream) -> dict[str, str]:
    """The cache's client credential, read once by its pss client when it first logs in.

    Passed as process environment, not ``setenv``: ``setenv X509_USER_PROXY = $(base)/...`` keeps only
    the expanded variable and the cache's client then fails to load its proxy (auth-verified.md).
    XrdSecPROTOCOL pins the protocol so the robot never falls through to another one.
    """
    if upstream.design == "robot-proxy":
        return {"X509_USER_PROXY": upstream.credential, "XrdSecPROTOCOL": "gsi"}
    return {"BEARER_TOKEN_FILE": upstream.credential, "XrdSecPROTOCOL": "ztn"}


def render_authdb(role: AuthRole, rules: tuple[str, ...]) -> str:
    header = [
        f"# authdb of the {role} (XrdAcc, XRootD 5.5.3), rendered by xcache-harness.",
        "# Paths are raw string prefixes: /data/cta also matches /data/cta_evil, so directories end with '/'.",
        "# 's' ids add privileges; 'x' ids are exclusive and shadow every other rule once the identity matches.",
    ]
    return "\n".join([*header, *rules]) + "\n"


def render_scitokens_cfg(audiences: tuple[str, ...], issuers: tuple[Issuer, ...]) -> str:
    lines = [
        "# SciTokens plugin (XRootD 5.5.3): a token's aud must be one of these; iss must equal an issuer",
        "# exactly. No onmissing line: the default passthrough hands requests without a usable token",
        "# to the authdb.",
        "[Global]",
        f"audience = {', '.join(audiences)}",
    ]
    for issuer in issuers:
        lines += ["", f"[Issuer {issuer.name}]", f"issuer = {issuer.url}", f"base_path = {issuer.base_path}"]
    return "\n".join(lines) + "\n"


def _file(paths: AuthPaths, name: str) -> str:
    return f"{paths.auth_dir.rstrip('/')}/{name}"


def _tls(paths: AuthPaths, http: bool) -> list[str]:
    lines = [
        "# ---- authentication and authorisation (verified on XRootD 5.5.3, docs/auth-verified.md)",
        "# TLS for https on the same port, and for root:// logins: ztn makes every login require TLS.",
        f"xrd.tls {paths.host_cert} {paths.host_key}",
        "# without xrd.tlsca the TLS context fails to initialise",
        f"xrd.tlsca certdir {paths.certdir}",
    ]
    if http:
        lines += [
            "# tokens over https reach the plugin as the CGI key authz; 5.5.3 matches this header name",
            "# case-sensitively (a client sending 'authorization:' is simply denied, fixed in 5.6.3)",
            "http.header2cgi Authorization authz",
            "# VOMS attributes from a client certificate or proxy over https (tolerated when absent)",
            "http.secxtractor libXrdVoms.so",
            "http.listingdeny yes",
        ]
    return lines


def _authentication(paths: AuthPaths) -> list[str]:
    return [
        "# no reverse DNS of clients (authdb host rules are refused anyway): where no DNS server answers,",
        "# as on a container network, every login waited 5-10 s for the lookup to time out",
        "xrd.network nodnr",
        "# without xrootd.seclib every sec.* line is ignored and all clients are anonymous (a warning only)",
        "xrootd.seclib libXrdSec.so",
        "# protparm must precede 'sec.protocol gsi': after it the parameters are dropped with a warning",
        "sec.protparm gsi -vomsfun:libXrdVoms.so -vomsat:extract",
        "# -ca:2 verifies the CA chain: '-ca:verify' is read with atoi() and becomes 0 = noverify.",
        "# -crldir: the CRL dir defaults to /etc/grid-security/certificates, not to -certdir.",
        "# -gridmap:/dev/null: no mapping, a client is named by its DN hash; authdb rules use VOMS attributes.",
        f"sec.protocol gsi -certdir:{paths.certdir} -cert:{paths.host_cert} -key:{paths.host_key} "
        f"-ca:2 -crl:1 -crldir:{paths.certdir} -gmapopt:trymap -gridmap:/dev/null",
        "# ztn = tokens on root://; no -expiry option: its argument is inverted in 5.5.3 (expiry is still",
        "# enforced by the JWT library when the token is deserialised)",
        "sec.protocol ztn",
        "sec.protbind * only gsi ztn",
    ]


def _authorization(authdb: str, scitokens: str) -> list[str]:
    return [
        "ofs.authorize 1",
        f"acc.authdb {authdb}",
        "# 60 s is the minimum refresh: authdb variants need a restart, not an edit",
        "acc.authrefresh 60",
        "# one acc_Audit line per decision: the evidence the harness collects per case",
        "acc.audit deny grant",
        "# '++' stacks SciTokens on the authdb; without it requests that carry no token are all denied.",
        "# ztn logins need it too; it is loaded only with ofs.authorize (else: 'ztn required plugin ...').",
        f"ofs.authlib ++ libXrdAccSciTokens.so config={scitokens}",
        "scitokens.trace all",
    ]


def _no_authorization() -> list[str]:
    return [
        "# NO AUTHORISATION: clients are authenticated, then allowed everything the storage allows.",
        "# A negative control: a matrix run against this server must fail its deny cases. Without",
        "# ofs.authorize the SciTokens plugin is not loaded, so ztn (token) logins fail on 5.5.3.",
    ]

