"""The credentials of one scenario run: a PKI (host certificates, one user per x509 credential, the
caches' robot) and a token issuer, made per run from ``Scenario.auth`` and ``Scenario.credentials``.

Everything here is a secret or leads to one: files are 0600, nothing is printed or recorded (only
credential *names* reach results), and :meth:`RunCredentials.destroy` removes the tree at the end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.auth import (
    WLCG_ANY_AUDIENCE,
    HostSpec,
    Pki,
    PkiSpec,
    ProxyVariant,
    TokenIssuer,
    TokenSpec,
    UserSpec,
    write_pki,
)
from harness.auth import write_token as _write_token
from harness.spec import NO_CREDENTIAL, AuthSpec, CredentialSpec, Scenario

ROBOT_USER = "xcache-robot"
HOSTS = {"origin": "origin", "cache": "cache"}  # role -> host certificate name
ROBOT_TOKEN_LIFETIME_S = 6 * 3600


@dataclass(frozen=True)
class ClientCredential:
    """What one client reads with: a token (in-process) or a proxy file (its own process)."""

    name: str
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None  # the same token, 0600: what XrdCl logs in with (ztn)
    proxy: Path | None = None

    @property
    def needs_process(self) -> bool:
        """XrdCl reads a GSI proxy once per process, so a proxy client cannot share the harness'."""
        return self.proxy is not None


NONE = ClientCredential(NO_CREDENTIAL)


@dataclass(frozen=True)
class RunCredentials:
    root: Path
    auth: AuthSpec
    pki: Pki
    issuer: TokenIssuer
    specs: Mapping[str, CredentialSpec]
    server_user: str | None

    @classmethod
    def create(cls, scenario: Scenario, root: Path, server_user: str | None) -> RunCredentials:
        """Write the PKI (``root`` must be traversable by the server user) and make the issuer."""
        assert scenario.auth is not None  # callers create credentials for auth scenarios only
        auth = scenario.auth
        users = [UserSpec(name, vo=c.vo, fqans=c.fqans) for name, c in scenario.credentials.items()
                 if c.kind == "x509"]
        users.append(UserSpec(ROBOT_USER, vo=auth.vo, fqans=(robot_group(auth),), robot=True))
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        # A CA name of its own per run: in-process XrdCl keeps the CA it loaded by subject hash, so a
        # second run in the same process with a same-named CA would fail TLS verification.
        spec = PkiSpec(hosts=tuple(HostSpec(h) for h in HOSTS.values()), users=tuple(users), negatives=False,
                       ca_name=f"xcache-harness test CA {uuid.uuid4().hex[:8]}")
        pki = write_pki(spec, root / "pki")
        if server_user:
            pki.chown_server_side(server_user)
        return cls(root, auth, pki, TokenIssuer.generate(auth.issuer), scenario.credentials, server_user)

    def client(self, name: str, servers: tuple[str, ...]) -> ClientCredential:
        """Client credential ``name``; ``servers`` are the https URLs a ``servers`` audience stands for."""
        spec = self.specs.get(name)
        if spec is None:
            return NONE
        if spec.kind == "x509":
            variant = ProxyVariant.VOMS if spec.vo else ProxyVariant.PLAIN
            return ClientCredential(name, proxy=self.pki.proxy(name, variant))
        if spec.kind in ("proxy-file", "token-file"):
            return file_credential(name, spec)
        audience = tuple(a for word in spec.audience for a in _audience(word, servers))
        token = self.issuer.mint(TokenSpec(subject=name, scopes=spec.scopes, audience=audience,
                                           lifetime_s=spec.lifetime_s))
        return ClientCredential(name, token, _write_token(token, self.root / "clients" / f"{name}.jwt"))

    def robot_proxy(self) -> Path:
        return self.pki.proxy(ROBOT_USER)

    def robot_token(self, audience: str) -> str:
        """The cache's own token (robot-token design): reads everything, for the origin only."""
        spec = TokenSpec(subject=ROBOT_USER, scopes=("storage.read:/",), audience=(audience,),
                         lifetime_s=ROBOT_TOKEN_LIFETIME_S)
        return self.issuer.mint(spec)

    def destroy(self) -> None:
        """Remove keys, proxies and tokens (the servers have stopped)."""
        shutil.rmtree(self.root, ignore_errors=True)


def file_credential(name: str, spec: CredentialSpec) -> ClientCredential:
    """A credential the user brought: a proxy file (read by its client process) or a token file."""
    assert spec.path is not None  # the spec requires a path for file credentials
    if spec.kind == "proxy-file":
        return ClientCredential(name, proxy=spec.path)
    return ClientCredential(name, spec.path.read_text(encoding="ascii").strip(), spec.path)


def process_ca_path() -> Path:
    """Where in-process XrdCl finds CA certificates: one directory per process, set once.

    XrdCl builds its TLS context once per process, from X509_CERT_DIR as it is at the first TLS
    connection, and then looks certificates up in that directory by subject hash as it needs them.
    So the directory must not change between runs of one process (tests), and each run adds its
    CA (named per run, so hashes never collide) instead of replacing the directory.
    """
    path = Path(tempfile.gettempdir()) / f"xcache-harness-ca-{os.getpid()}"
    # It must exist before the first TLS connection: on a missing CA dir XrdCl turns TLS off for good.
    if not path.exists():
        path.mkdir(mode=0o755)
        atexit.register(shutil.rmtree, path, True)
    return path


@contextmanager
def process_ca_dir(certdir: Path) -> Iterator[Path]:
    """The run's CA certificates and CRLs (public) in :func:`process_ca_path` for the run's duration."""
    dest = process_ca_path()
    added = [dest / f.name for f in sorted(certdir.iterdir()) if f.is_file() and not (dest / f.name).exists()]
    for path in added:
        shutil.copyfile(certdir / path.name, path)
    try:
        yield dest
    finally:
        for path in added:
            path.unlink(missing_ok=True)


def robot_group(auth: AuthSpec) -> str:
    return f"/{auth.vo}/xcache"


def default_authdb(auth: AuthSpec, top_dirs: list[str]) -> tuple[str, ...]:
    """Read for ``auth.group`` on the dataset's top dirs, also under fresh names; the robot reads all.

    Directories end with '/' (XrdAcc paths are raw prefixes); ``/fresh-`` covers every generation
    of fresh names. Compound ids use ``s`` (inclusive): an ``x`` id would shadow the group rules.
    """
    paths = " ".join([*(f"{d}/ rl" for d in top_dirs), "/fresh- rl"])
    # one line per id: XrdAcc refuses a second rule for the same group ("duplicate rule for id")
    return f"g {auth.group} {paths}", f"= xcache o: {auth.vo} g: {robot_group(auth)}", "s xcache / rl"


def top_dirs(paths: list[str]) -> list[str]:
    """``/smoke/f1.bin`` -> ``/smoke``, in first-seen order."""
    return list(dict.fromkeys("/" + p.lstrip("/").split("/", 1)[0] for p in paths))


def _audience(word: str, servers: tuple[str, ...]) -> tuple[str, ...]:
    if word == "any":
        return (WLCG_ANY_AUDIENCE,)
    return servers if word == "servers" else (word,)
