"""The servers of an auth check: one origin, one cache per configuration, each with its auth part.

``AuthServers.extras`` is the topology's extras hook: it renders the auth config
(``harness.xrdconf.auth``), seeds the server's token key cache (so no JWKS is fetched) and, for a
cache, provides its robot credential. The pieces shared with scenario runs (copies of each server's
credentials under ``<server dir>/auth/``, ``https_ready``, URLs and audiences) live in
``harness.testbedauth``; :meth:`AuthServers.destroy` removes the copies again.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.authcheck.creds import CACHE_HOST, ORIGIN_HOST, Credentials
from harness.authcheck.matrix import AuthMatrix, Configuration
from harness.backends import Placement
from harness.spec import CacheSpec, OriginSpec, TopologySpec
from harness.testbedauth import audience_of, https_ready, server_files, url_of
from harness.topology import ServerExtras
from harness.xrdconf.auth import AuthPaths, Issuer, RenderedAuth, ServerAuth, Upstream, render_auth

ORIGIN = "origin"


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
        own = server_files(placement, self.creds.pki, ORIGIN_HOST if placement.role == "origin" else CACHE_HOST,
                           self.creds.issuer, self.creds.server_user)
        self.auth_dirs.append(own.host_dir)
        return own.paths, own.files

    def _issuers(self) -> tuple[Issuer, ...]:
        servers = self.matrix.servers
        return (Issuer("harness", servers.issuer, servers.base_path),)


__all__ = ["ORIGIN", "AuthServers", "audience_of", "cache_name", "https_ready", "server_for", "topology_spec",
           "url_of"]
