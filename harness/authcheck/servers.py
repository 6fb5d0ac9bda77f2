"""The servers of an auth check: one origin, one cache per configuration, each with its auth part.

``AuthServers.extras`` is the topology's extras hook: it renders the auth config
(``harness.xrdconf.auth``), seeds the server's token key cache (so no JWKS is fetched) and, for a
cache, provides its robot credential. ``https_ready`` replaces the kXR_ping readiness check: with
gsi/ztn required at login, a ping from the credential-less harness would fail authentication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.auth import seed_key_cache
from harness.authcheck.creds import CACHE_HOST, ORIGIN_HOST, Credentials
from harness.authcheck.matrix import AuthMatrix, Configuration
from harness.backends import Placement, Service
from harness.readiness import wait_for, wait_log_ready
from harness.spec import CacheSpec, OriginSpec, TopologySpec
from harness.topology import Ready, ServerExtras
from harness.xrdconf.auth import AuthPaths, Issuer, RenderedAuth, ServerAuth, Upstream, render_auth

ORIGIN = "origin"
HTTPS_PROBE_TIMEOUT_S = 2.0


def cache_name(config: str) -> str:
    """A configuration's cache is named after it: short, since xrootd's admin socket path
    (<runtime>/<run-id>/<name>/adm/<name>/.xrd/) must fit in a unix socket address (108 bytes)."""
    return config


def server_for(route: str, config: str) -> str:
    return ORIGIN if route == "origin" else cache_name(config)


def topology_spec(matrix: AuthMatrix) -> TopologySpec:
    """The origin, plus a cache for every configuration some cache case uses (in matrix order)."""
    used = {matrix.config_of(c) for c in matrix.cases if c.route != "origin"}
    caches = tuple(CacheSpec(name=cache_name(name), origin=ORIGIN) for name in matrix.configurations if name in used)
    return TopologySpec(origins=(OriginSpec(name=ORIGIN),), caches=caches)


def url_of(placement: Placement) -> str:
    """The server's https URL: also its token audience."""
    return f"https://{placement.host}:{placement.port}"


@dataclass
class AuthServers:
    """Renders each server's auth part when the topology starts it; keeps what it rendered."""

    matrix: AuthMatrix
    creds: Credentials
    rendered: dict[str, RenderedAuth] = field(default_factory=dict)

    def extras(self, placement: Placement, started: Mapping[str, Placement]) -> ServerExtras:
        spec = self._origin(placement) if placement.role == "origin" else self._cache(placement, started)
        rendered = render_auth(spec)
        self.rendered[placement.name] = rendered
        return ServerExtras(rendered.config, rendered.env, rendered.files)

    def configuration(self, cache: str) -> Configuration:
        return self.matrix.configurations[cache]

    def _origin(self, placement: Placement) -> ServerAuth:
        rules = self.matrix.servers.origin
        return ServerAuth("origin", self._paths(placement, ORIGIN_HOST), rules.authdb, self._issuers(),
                          (url_of(placement),))

    def _cache(self, placement: Placement, started: Mapping[str, Placement]) -> ServerAuth:
        config = self.configuration(placement.name)
        if config.cache_credential == "robot-proxy":
            credential = self.creds.robot_proxy()
        else:
            credential = self.creds.robot_token(self.matrix, url_of(started[ORIGIN]), placement.name)
        return ServerAuth("cache", self._paths(placement, CACHE_HOST), self.matrix.servers.cache.authdb,
                          self._issuers(), (url_of(placement),), authorize=config.cache_authorize,
                          upstream=Upstream(config.cache_credential, str(credential)))

    def _paths(self, placement: Placement, host: str) -> AuthPaths:
        auth_dir = Path(placement.admin_dir).parent / "auth"
        key_cache = auth_dir / "xdgcache"
        seed_key_cache(key_cache, [self.creds.issuer], owner=self.creds.server_user)
        pki = self.creds.pki
        creds = pki.host(host)
        return AuthPaths(str(creds.cert), str(creds.key), str(pki.certdir), str(pki.vomsdir), str(auth_dir),
                         str(key_cache))

    def _issuers(self) -> tuple[Issuer, ...]:
        servers = self.matrix.servers
        return (Issuer("harness", servers.issuer, servers.base_path),)


def https_ready(ca_dir: Path) -> Ready:
    """Ready = the log's ``initialization completed``, then any HTTP answer over TLS on the port."""
    import requests

    def ready(service: Service, timeout_s: float) -> None:
        name = service.placement.name
        wait_log_ready(service, name, timeout_s)
        url = url_of(service.placement) + "/"

        def answers() -> bool:
            try:
                requests.head(url, verify=str(ca_dir), timeout=HTTPS_PROBE_TIMEOUT_S)
            except requests.RequestException:
                return False
            return True

        wait_for(answers, timeout_s, f"{name} ({url})")

    return ready
