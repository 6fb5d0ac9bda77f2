"""Authentication on servers the harness starts, shared by scenario runs and auth checks.

Every file a server reads (host certificate and key, CA and VOMS dirs, authdb, scitokens.cfg,
robot credential) is copied into ``<server dir>/auth/`` and named in the config as the server sees
it, so a container finds them in its bind mount like a local process does (:func:`server_files`);
the token key cache is seeded so no JWKS is fetched. ``https_ready`` replaces the kXR_ping readiness
check: with gsi/ztn required at login, a ping from the credential-less harness would fail.

:class:`TestbedAuth` is the topology's extras hook for a scenario with ``auth:``: GSI/VOMS and ztn
on root://, https on the same port, the caches fetching with a robot proxy or robot token. Staging
writes into the origin's storage directly, so it never goes through auth.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from harness.auth import Pki, TokenIssuer, seed_key_cache
from harness.backends import Placement, Service
from harness.credentials import HOSTS, RunCredentials, default_authdb
from harness.readiness import wait_for, wait_log_ready
from harness.topology import Ready, ServerExtras
from harness.xrdconf.auth import AuthPaths, Issuer, ServerAuth, Upstream, render_auth

HTTPS_PROBE_TIMEOUT_S = 2.0
Files = dict[str, str | bytes]


def url_of(placement: Placement) -> str:
    """The server's https URL as the harness reaches it."""
    return f"https://{placement.host}:{placement.port}"


def audience_of(placement: Placement) -> str:
    """The server's token audience: its URL by the name its peers use, the same whichever address
    a client connects to (the harness reaches a container by IP, the cache reaches the origin by
    name, and the origin must accept the audience of the cache's robot token)."""
    return f"https://{placement.peer_host}:{placement.port}"


@dataclass(frozen=True)
class ServerFiles:
    """A server's auth paths as it sees them, the files to write there, and that dir on the host."""

    paths: AuthPaths
    files: Files
    host_dir: Path


def server_files(placement: Placement, pki: Pki, host: str, issuer: TokenIssuer,
                 server_user: str | None) -> ServerFiles:
    """Copies of the server's credentials under ``<server dir>/auth`` (host cert ``host`` of ``pki``)."""
    auth_dir = f"{placement.server_dir or Path(placement.admin_dir).parent}/auth"
    host_auth = placement.on_host(auth_dir)
    creds = pki.host(host)
    files: Files = {f"{auth_dir}/hostcert.pem": creds.cert.read_bytes(),
                    f"{auth_dir}/hostkey.pem": creds.key.read_bytes()}
    files |= _tree(pki.certdir, f"{auth_dir}/certificates")
    files |= _tree(pki.vomsdir, f"{auth_dir}/vomsdir")
    # the key cache is a database: seeded in place (the backend gives the directory to the server user)
    seed_key_cache(host_auth / "xdgcache", [issuer], owner=server_user)
    paths = AuthPaths(f"{auth_dir}/hostcert.pem", f"{auth_dir}/hostkey.pem", f"{auth_dir}/certificates",
                      f"{auth_dir}/vomsdir", auth_dir, f"{auth_dir}/xdgcache")
    return ServerFiles(paths, files, host_auth)


def _tree(source: Path, dest: str) -> dict[str, bytes]:
    """Every file under ``source``, keyed by its path under ``dest``."""
    return {f"{dest}/{path.relative_to(source).as_posix()}": path.read_bytes()
            for path in sorted(source.rglob("*")) if path.is_file()}


@dataclass
class TestbedAuth:
    """The topology's extras hook for a scenario with ``auth:``."""

    __test__ = False  # not a pytest class, whatever its name

    creds: RunCredentials
    top_dirs: tuple[str, ...]
    auth_dirs: list[Path] = field(default_factory=list)  # host side, holding keys: removed by destroy()

    def extras(self, placement: Placement, started: Mapping[str, Placement]) -> ServerExtras:
        own = server_files(placement, self.creds.pki, HOSTS[placement.role], self.creds.issuer,
                           self.creds.server_user)
        self.auth_dirs.append(own.host_dir)
        auth = self.creds.auth
        rules = auth.authdb if auth.authdb is not None else default_authdb(auth, list(self.top_dirs))
        upstream = None if placement.role == "origin" else self._upstream(own, started)
        spec = ServerAuth(placement.role, own.paths, rules, (Issuer("harness", auth.issuer, "/"),),
                          (audience_of(placement),), upstream=upstream)
        rendered = render_auth(spec)
        return ServerExtras(rendered.config, rendered.env, {**own.files, **rendered.files})

    def destroy(self) -> None:
        """Remove the servers' copies of keys and credentials (the servers have stopped)."""
        for auth_dir in self.auth_dirs:
            shutil.rmtree(auth_dir, ignore_errors=True)

    def _upstream(self, own: ServerFiles, started: Mapping[str, Placement]) -> Upstream:
        """The cache's robot credential, written next to its other auth files (0600, server user)."""
        design = self.creds.auth.cache_credential
        if design == "robot-proxy":
            robot = f"{own.paths.auth_dir}/robot.pem"
            own.files[robot] = self.creds.robot_proxy().read_bytes()
        else:
            origins = [p for p in started.values() if p.role == "origin"]
            audience = audience_of(origins[0]) if len(origins) == 1 else "https://wlcg.cern.ch/jwt/v1/any"
            robot = f"{own.paths.auth_dir}/robot.jwt"
            own.files[robot] = self.creds.robot_token(audience) + "\n"
        return Upstream(design, robot)


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
