"""Authentication on a scenario's testbed: every server gets the auth part of its config
(``harness.xrdconf.auth``: GSI/VOMS and ztn on root://, https with TLS on the same port, the authdb
and scitokens.cfg), the caches fetch from their origin with a robot proxy or robot token, and
readiness is checked over https with the run's CA (a credential-less kXR_ping would fail login).

Staging writes into the origin's storage directly, so it never goes through auth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from harness.auth import seed_key_cache
from harness.backends import Placement, Service
from harness.credentials import RunCredentials, default_authdb
from harness.readiness import wait_for, wait_log_ready
from harness.topology import Ready, ServerExtras
from harness.xrdconf.auth import AuthPaths, Issuer, ServerAuth, Upstream, render_auth

HTTPS_PROBE_TIMEOUT_S = 2.0


def https_url(placement: Placement) -> str:
    """The server's https URL: also the token audience it accepts."""
    return f"https://{placement.host}:{placement.port}"


@dataclass(frozen=True)
class TestbedAuth:
    """The topology's extras hook for a scenario with ``auth:`` (local backend: paths are host paths)."""

    creds: RunCredentials
    top_dirs: tuple[str, ...]

    def extras(self, placement: Placement, started: Mapping[str, Placement]) -> ServerExtras:
        paths = self._paths(placement)
        auth = self.creds.auth
        rules = auth.authdb if auth.authdb is not None else default_authdb(auth, list(self.top_dirs))
        upstream = None if placement.role == "origin" else self._upstream(placement, started, paths)
        spec = ServerAuth(placement.role, paths, rules, (Issuer("harness", auth.issuer, "/"),),
                          (https_url(placement),), upstream=upstream)
        rendered = render_auth(spec)
        return ServerExtras(rendered.config, rendered.env, rendered.files)

    def _upstream(self, placement: Placement, started: Mapping[str, Placement], paths: AuthPaths) -> Upstream:
        design = self.creds.auth.cache_credential
        if design == "robot-proxy":
            return Upstream(design, str(self.creds.robot_proxy()))
        origins = [p for p in started.values() if p.role == "origin"]
        audience = https_url(origins[0]) if len(origins) == 1 else "https://wlcg.cern.ch/jwt/v1/any"
        token = self.creds.robot_token(audience, self.creds.root / "robot" / f"{placement.name}.jwt")
        return Upstream(design, str(token))

    def _paths(self, placement: Placement) -> AuthPaths:
        auth_dir = self.creds.root / "servers" / placement.name
        key_cache = auth_dir / "xdgcache"
        seed_key_cache(key_cache, [self.creds.issuer], owner=self.creds.server_user)
        host = self.creds.pki.host("origin" if placement.role == "origin" else "cache")
        pki = self.creds.pki
        return AuthPaths(str(host.cert), str(host.key), str(pki.certdir), str(pki.vomsdir), str(auth_dir),
                         str(key_cache))


def https_ready(ca_dir: str) -> Ready:
    """Ready = the log's ``initialization completed``, then any HTTP answer over TLS (test CA) on the port."""

    def ready(service: Service, timeout_s: float) -> None:
        name = service.placement.name
        wait_log_ready(service, name, timeout_s)
        url = https_url(service.placement) + "/"

        def answers() -> bool:
            try:
                requests.head(url, verify=ca_dir, timeout=HTTPS_PROBE_TIMEOUT_S)
            except requests.RequestException:
                return False
            return True

        wait_for(answers, timeout_s, f"{name} ({url})")

    return ready
