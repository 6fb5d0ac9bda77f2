"""The servers of an auth check: one origin, one cache per configuration, each with its auth part.

``AuthServers.extras`` is the topology's extras hook: it renders the auth config
(``harness.xrdconf.auth``), seeds the server's token key cache (so no JWKS is fetched) and, for a
cache, provides its robot credential. Every file a server reads (host certificate and key, CA and
VOMS dirs, authdb, robot credential) is copied into ``<server dir>/auth/`` and named in the config
as the server sees it, so a container finds them in its bind mount like a local process does;
:meth:`AuthServers.destroy` removes them again. ``https_ready`` replaces the kXR_ping readiness
check: with gsi/ztn required at login, a ping from the credential-less harness would fail
authentication.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

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
    """The server's https URL as the harness reaches it."""
    return f"https://{placement.host}:{placement.port}"


def audience_of(placement: Placement) -> str:
    """The server's token audience: its URL by the name its peers use, the same whichever address
    a client connects to (the harness reaches a container by IP, the cache reaches the origin by
    name, and the origin must accept the audience of the cache's robot token)."""
    return f"https://{placement.peer_host}:{placement.port}"


@dataclass
class AuthServers:
    """Renders each server's auth part when the topology starts it; keeps what it rendered."""

    matrix: AuthMatrix
    creds: Credentials
    rendered: dict[str, RenderedAuth] = field(default_factory=dict)
    auth_dirs: list[Path] = field(default_factory=list)  # host side, holding keys: removed by destroy()

    def extras(self, placement: Placement, started: Mapping[str, Placement]) -> ServerExtras:
        paths, files = self._server_files(placement)
        spec = self._origin(placement, paths) if placement.role == "origin" else self._cache(placement, started,
                                                                                               paths, files)
        rendered = render_auth(spec)
        self.rendered[placement.name] = rendered
        return ServerExtras(rendered.config, rendered.env, {**files, **rendered.files})

    def configuration(self, cache: str) -> Configuration:
        return self.matrix.configurations[cache]

    def destroy(self) -> None:
        """Remove the servers' copies of keys and credentials (the servers have stopped)."""
        for auth_dir in self.auth_dirs:
            shutil.rmtree(auth_dir, ignore_errors=True)

    def _origin(self, placement: Placement, paths: AuthPaths) -> ServerAuth:
        rules = self.matrix.servers.origin
        return ServerAuth("origin", paths, rules.authdb, self._issuers(), (audience_of(placement),))

    def _cache(self, placement: Placement, started: Mapping[str, Placement], paths: AuthPaths,
               files: dict[str, str | bytes]) -> ServerAuth:
        config = self.configuration(placement.name)
        if config.cache_credential == "robot-proxy":
            credential: str | bytes = self.creds.robot_proxy().read_bytes()
        else:
            credential = self.creds.robot_token(self.matrix, audience_of(started[ORIGIN])) + "\n"
        robot = f"{paths.auth_dir}/robot.{'pem' if config.cache_credential == 'robot-proxy' else 'jwt'}"
        files[robot] = credential
        return ServerAuth("cache", paths, self.matrix.servers.cache.authdb, self._issuers(),
                          (audience_of(placement),), authorize=config.cache_authorize,
                          upstream=Upstream(config.cache_credential, robot))

    def _server_files(self, placement: Placement) -> tuple[AuthPaths, dict[str, str | bytes]]:
        """The server's auth paths as it sees them, and copies of its credentials to write there."""
        auth_dir = f"{placement.server_dir or Path(placement.admin_dir).parent}/auth"
        host_auth = placement.on_host(auth_dir)
        self.auth_dirs.append(host_auth)
        pki = self.creds.pki
        host = pki.host(ORIGIN_HOST if placement.role == "origin" else CACHE_HOST)
        files: dict[str, str | bytes] = {f"{auth_dir}/hostcert.pem": host.cert.read_bytes(),
                                         f"{auth_dir}/hostkey.pem": host.key.read_bytes()}
        files |= _tree(pki.certdir, f"{auth_dir}/certificates")
        files |= _tree(pki.vomsdir, f"{auth_dir}/vomsdir")
        # the key cache is a database: seeded in place (the backend gives the directory to the server user)
        seed_key_cache(host_auth / "xdgcache", [self.creds.issuer], owner=self.creds.server_user)
        paths = AuthPaths(f"{auth_dir}/hostcert.pem", f"{auth_dir}/hostkey.pem", f"{auth_dir}/certificates",
                          f"{auth_dir}/vomsdir", auth_dir, f"{auth_dir}/xdgcache")
        return paths, files

    def _issuers(self) -> tuple[Issuer, ...]:
        servers = self.matrix.servers
        return (Issuer("harness", servers.issuer, servers.base_path),)


def _tree(source: Path, dest: str) -> dict[str, bytes]:
    """Every file under ``source``, keyed by its path under ``dest``."""
    return {f"{dest}/{path.relative_to(source).as_posix()}": path.read_bytes()
            for path in sorted(source.rglob("*")) if path.is_file()}


def https_ready(ca_dir: Path) -> Ready:
    """Ready = the log's ``initialization completed``, then any HTTP answer over TLS on the port.

    The certificate is checked against the test CA and the server's peer name (a container is
    reached by its address, but its certificate names it)."""
    def ready(service: Service, timeout_s: float) -> None:
        place = service.placement
        wait_log_ready(service, place.name, timeout_s)
        url = url_of(place) + "/"

        def answers() -> bool:
            try:
                session.head(url, verify=str(ca_dir), timeout=HTTPS_PROBE_TIMEOUT_S)
            except requests.RequestException:
                return False
            return True

        with requests.Session() as session:
            session.mount("https://", _NamedHost(place.peer_host))
            wait_for(answers, timeout_s, f"{place.name} ({url})")

    return ready


class _NamedHost(HTTPAdapter):
    """Connects to the URL's address, but sends and verifies ``name`` in the TLS handshake."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, server_hostname=self.name, assert_hostname=self.name, **kwargs)
