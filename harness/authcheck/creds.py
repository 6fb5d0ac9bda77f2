"""Credentials of one auth-check run: the PKI (users of the matrix + the cache's robot), the token
issuer, the robot's token, and each case's client environment.

Everything here is a secret or leads to one: files are 0600, nothing is logged, and
:meth:`Credentials.destroy` removes the whole tree when the run ends.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.auth import (
    WLCG_ANY_AUDIENCE,
    HostSpec,
    Pki,
    PkiSpec,
    ProxyVariant,
    Signing,
    TokenIssuer,
    TokenSpec,
    UserSpec,
    write_pki,
    write_token,
)
from harness.auth.clientenv import isolated_env
from harness.authcheck.matrix import ROBOT_USER, AuthMatrix, Identity
from harness.errors import UserError

ORIGIN_HOST, CACHE_HOST = "origin", "cache"
ROBOT_TOKEN_LIFETIME_S = 6 * 3600


@dataclass(frozen=True)
class Endpoints:
    """URLs a token's symbolic audiences resolve to, for one case."""

    server: str
    origin: str
    cache: str | None

    def resolve(self, words: tuple[str, ...]) -> tuple[str, ...]:
        table = {"server": self.server, "origin": self.origin, "cache": self.cache or self.server,
                 "any": WLCG_ANY_AUDIENCE}
        return tuple(table.get(word, word) for word in words)


@dataclass(frozen=True)
class Credentials:
    root: Path
    pki: Pki
    issuer: TokenIssuer
    server_user: str | None  # owner of server-side files (None when not running as root)

    @classmethod
    def create(cls, matrix: AuthMatrix, root: Path, server_user: str | None) -> Credentials:
        """Write the PKI and make the issuer; ``root`` must be traversable by the server user."""
        robot = matrix.servers.robot
        users = [UserSpec(name, vo=u.vo, fqans=u.fqans, revoked=u.revoked) for name, u in matrix.users.items()]
        users.append(UserSpec(ROBOT_USER, vo=robot.vo, fqans=robot.fqans, robot=True))
        # caches are named after their configurations: one certificate names them all
        hosts = (HostSpec(ORIGIN_HOST), HostSpec(CACHE_HOST, aliases=tuple(matrix.configurations)))
        spec = PkiSpec(hosts=hosts, users=tuple(users))
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        pki = write_pki(spec, root / "pki")
        if server_user:
            pki.chown_server_side(server_user)
        return cls(root, pki, TokenIssuer.generate(matrix.servers.issuer), server_user)

    def robot_proxy(self) -> Path:
        return self.pki.proxy(ROBOT_USER, ProxyVariant.VOMS)

    def robot_token(self, matrix: AuthMatrix, audience: str) -> str:
        """The cache's own token (robot-token design); the caller writes it where the cache reads it."""
        robot = matrix.servers.robot
        spec = TokenSpec(subject=robot.subject, scopes=robot.scopes, audience=(audience,),
                         lifetime_s=ROBOT_TOKEN_LIFETIME_S)
        return self.issuer.mint(spec)

    def client_env(self, identity: Identity, case_dir: Path, endpoints: Endpoints) -> dict[str, str]:
        """A minimal, explicit environment for one probe: nothing ambient can stand in for a credential.

        HOME and XDG_RUNTIME_DIR are empty (no ~/.globus to make a proxy from, no bt_u<uid>), and a
        missing token file stands for "no token". X509_USER_PROXY cannot point at a missing file:
        XrdCl also loads it as its TLS client certificate, fails, and then logs in without TLS,
        which ztn refuses ("disallowed for non-TLS connections"); so it is unset, and an ambient
        /tmp/x509up_u<uid> is refused for credential-less cases.
        """
        env = isolated_env(case_dir / "home", {
            "X509_CERT_DIR": str(self.pki.certdir), "BEARER_TOKEN_FILE": str(case_dir / "no-token"),
            "XRD_CONNECTIONRETRY": "1", "XRD_REQUESTTIMEOUT": "10", "XRD_CONNECTIONWINDOW": "3",
        })
        if identity.kind == "x509":
            env |= {"X509_USER_PROXY": str(self.proxy_of(identity)), "XrdSecPROTOCOL": "gsi"}
        elif identity.kind == "token":
            token = self.issuer.mint(_token_spec(identity, endpoints.resolve(identity.audience)))
            env |= {"BEARER_TOKEN_FILE": str(write_token(token, case_dir / "token")), "XrdSecPROTOCOL": "ztn"}
        else:
            ambient = Path(f"/tmp/x509up_u{os.geteuid()}")
            if ambient.exists():
                raise UserError(f"{ambient} exists: XrdCl would use it for the credential-less cases; move it away")
            env["XrdSecPROTOCOL"] = "gsi,ztn"
        return env

    def proxy_of(self, identity: Identity) -> Path:
        assert identity.user is not None  # the matrix model guarantees it for x509 identities
        user = self.pki.user(identity.user)
        default = ProxyVariant.VOMS if any(v is ProxyVariant.VOMS for v, _ in user.proxies) else ProxyVariant.PLAIN
        return user.proxy(ProxyVariant(identity.proxy) if identity.proxy else default)

    def destroy(self) -> None:
        """Remove keys, proxies and tokens (the servers have stopped)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _token_spec(identity: Identity, audience: tuple[str, ...]) -> TokenSpec:
    return TokenSpec(
        subject=identity.subject, scopes=identity.scopes or (), audience=audience, groups=identity.groups,
        lifetime_s=identity.lifetime_s, age_s=identity.age_s, nbf_delay_s=identity.nbf_delay_s,
        issuer=identity.issuer, signing=Signing(identity.signing),
    )


def server_owner(server_user: str) -> str | None:
    """Files the server reads must belong to its user when the harness runs as root (xrootd -R)."""
    return server_user if os.geteuid() == 0 else None
