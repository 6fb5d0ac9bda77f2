"""A throwaway WLCG token issuer: signing keys, JWKS, minting (good and deliberately bad tokens),
an HTTPS discovery endpoint, and offline seeding of the server's scitokens-cpp key cache.

Offline use (no network fetch by the server; auth-reference.md section 3.5)::

    issuer = TokenIssuer.generate("https://localhost:8443/issuer")
    seed_key_cache(Path("/srv/run/origin/xdgcache"), [issuer], owner="xrootd")   # XDG_CACHE_HOME
    tok = issuer.mint(TokenSpec(subject="alice", scopes=("storage.read:/cta",),
                                audience=("https://localhost:1094",)))
    write_token(tok, Path("/srv/run/clients/alice.jwt"))                            # 0600

Online use (the server fetches ``iss + /.well-known/openid-configuration`` then ``jwks_uri``)::

    with IssuerServer(host_cert, host_key) as srv:
        issuer = TokenIssuer.generate(srv.url("/issuer"))
        srv.publish(issuer)

Tokens are secrets: nothing here logs or prints them, and ``repr`` of a spec never contains one.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import json
import os
import sqlite3
import ssl
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.auth.pki import chown_paths
from harness.errors import TopologyError, UserError

__all__ = [
    "KEYCACHE_RELPATH",
    "WLCG_ANY_AUDIENCE",
    "IssuerServer",
    "Signing",
    "TokenIssuer",
    "TokenSpec",
    "negative_variants",
    "seed_key_cache",
    "write_token",
]

# scitokens-cpp 0.7.3 key cache, relative to $XDG_CACHE_HOME (the "sqllite" spelling is upstream's).
KEYCACHE_RELPATH = Path("scitokens") / "scitokens_cpp.sqllite"
WLCG_ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any"  # always accepted by scitokens-cpp 0.7.3
_TEN_YEARS = 10 * 365 * 24 * 3600


class Signing(enum.StrEnum):
    """How a minted token is signed; everything but VALID must be rejected by a server."""

    VALID = "valid"  # ES256 with the published key and its kid
    UNKNOWN_KEY = "unknown_key"  # ES256 with a key not in the JWKS, under its own kid
    WRONG_KEY = "wrong_key"  # ES256 with an unpublished key but the published kid: bad signature
    TAMPERED = "tampered"  # valid signature, then the payload is changed (scope widened)
    ALG_NONE = "alg_none"  # "alg": "none", empty signature
    HS256 = "hs256"  # HMAC keyed with the issuer's public key PEM (algorithm confusion)


@dataclass(frozen=True)
class TokenSpec:
    """Claims of one token (WLCG profile 1.0). Times are relative to minting time.

    ``iat = now - age_s``, ``nbf = iat + nbf_delay_s``, ``exp = iat + lifetime_s``; so an expired
    token is ``age_s=3600, lifetime_s=600`` and a not-yet-valid one ``nbf_delay_s=600``. An empty
    ``scopes`` omits the ``scope`` claim; ``omit`` drops any other claim by name; ``extra``
    adds or overrides claims. ``issuer`` overrides the issuer's URL (wrong-issuer cases).
    """

    subject: str = "harness-user"
    scopes: tuple[str, ...] = ("storage.read:/",)
    audience: tuple[str, ...] = (WLCG_ANY_AUDIENCE,)
    groups: tuple[str, ...] = ()
    lifetime_s: int = 1200
    age_s: int = 0
    nbf_delay_s: int = 0
    issuer: str | None = None
    signing: Signing = Signing.VALID
    omit: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        for scope in self.scopes:
            if " " in scope or not scope:
                raise UserError(f"token scope {scope!r} must be one non-empty word")

    def claims(self, issuer: str, now: int) -> dict[str, Any]:
        iat = now - self.age_s
        claims: dict[str, Any] = {
            "wlcg.ver": "1.0",
            "iss": self.issuer or issuer,
            "sub": self.subject,
            "iat": iat,
            "nbf": iat + self.nbf_delay_s,
            "exp": iat + self.lifetime_s,
            "jti": str(uuid.uuid4()),
        }
        if self.audience:
            claims["aud"] = self.audience[0] if len(self.audience) == 1 else list(self.audience)
        if self.scopes:
            claims["scope"] = " ".join(self.scopes)
        if self.groups:
            claims["wlcg.groups"] = list(self.groups)
        claims.update(dict(self.extra))
        for name in self.omit:
            claims.pop(name, None)
        return claims


@dataclass(frozen=True, eq=False)
class TokenIssuer:
    """An issuer URL with one published EC P-256 key and one unpublished ("unknown") key."""

    url: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    kid: str
    unknown_key: ec.EllipticCurvePrivateKey = field(repr=False)
    unknown_kid: str

    @classmethod
    def generate(cls, url: str) -> TokenIssuer:
        if url.endswith("/"):
            raise UserError(f"issuer URL {url!r}: no trailing slash (iss must match scitokens.cfg exactly)")
        key, unknown = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        return cls(url, key, _kid(key), unknown, _kid(unknown))

    def at(self, url: str) -> TokenIssuer:
        """The same keys under another URL (e.g. once an HTTPS server knows its port)."""
        return dataclasses.replace(self, url=url)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_jwk(self.key, self.kid)]}

    def openid_configuration(self) -> dict[str, Any]:
        return {"issuer": self.url, "jwks_uri": self.url + "/jwks.json"}

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def mint(self, spec: TokenSpec, *, now: int | None = None) -> str:
        """A compact JWS for ``spec``; never logged."""
        claims = spec.claims(self.url, int(time.time()) if now is None else now)
        if spec.signing is Signing.VALID or spec.signing is Signing.TAMPERED:
            token = jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})
            return _tamper(token) if spec.signing is Signing.TAMPERED else token
        if spec.signing is Signing.UNKNOWN_KEY:
            return jwt.encode(claims, self.unknown_key, algorithm="ES256", headers={"kid": self.unknown_kid})
        if spec.signing is Signing.WRONG_KEY:
            return jwt.encode(claims, self.unknown_key, algorithm="ES256", headers={"kid": self.kid})
        if spec.signing is Signing.ALG_NONE:
            return _compact({"alg": "none", "typ": "JWT"}, claims, b"")
        # HS256 with the public key as the HMAC secret; PyJWT refuses PEM secrets, so sign by hand.
        head = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
        signing_input = _compact(head, claims, None)
        return _compact(head, claims, hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest())

    def verify(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """Check a token against this issuer's JWKS the way a server should (for self-tests)."""
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: jwt.PyJWK(k) for k in self.jwks()["keys"]}
        if header.get("kid") not in keys:
            raise jwt.InvalidKeyError(f"kid {header.get('kid')!r} not in JWKS")
        return jwt.decode(
            token,
            keys[header["kid"]],
            algorithms=["ES256"],
            issuer=self.url,
            audience=audience,
            options={"verify_aud": audience is not None},
        )


def negative_variants(
    base: TokenSpec,
    *,
    other_issuer: str = "https://localhost:1/not-configured",
    other_audience: str = "https://other.example",
) -> dict[str, TokenSpec]:
    """The token cases a server must reject, each derived from a valid ``base``."""
    rep = dataclasses.replace
    return {
        "expired": rep(base, age_s=3600, lifetime_s=600),
        "not_yet_valid": rep(base, nbf_delay_s=600),
        "issued_in_future": rep(base, age_s=-600, lifetime_s=1800),
        "wrong_audience": rep(base, audience=(other_audience,)),
        "wrong_issuer": rep(base, issuer=other_issuer),
        "no_scope": rep(base, scopes=()),
        "unknown_key": rep(base, signing=Signing.UNKNOWN_KEY),
        "wrong_key": rep(base, signing=Signing.WRONG_KEY),
        "tampered": rep(base, signing=Signing.TAMPERED),
        "alg_none": rep(base, signing=Signing.ALG_NONE),
        "hs256": rep(base, signing=Signing.HS256),
    }


def write_token(token: str, path: Path, *, owner: str | None = None) -> Path:
    """Write ``token`` to ``path`` with mode 0600 (XrdCl refuses group/other-readable token files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    path.chmod(0o600)
    if owner:
        chown_paths([path], owner)
    return path


def seed_key_cache(
    xdg_cache_home: Path,
    issuers: Iterable[TokenIssuer],
    *,
    owner: str | None = "xrootd",
    now: int | None = None,
    valid_for_s: int = _TEN_YEARS,
) -> Path:
    """Pre-load scitokens-cpp 0.7.3's key cache so the server never fetches the JWKS.

    Row format (scitokens_cache.cpp): ``keycache(issuer, keys)`` with ``keys`` =
    ``{"jwks": ..., "next_update": int, "expires": int}``. Both times must be JSON *integers*
    (picojson drops rows with floats) and far in the future, or the library tries a refresh.
    Directories are 0700 and, with ``owner``, belong to the server user.
    """
    now = int(time.time()) if now is None else now
    until = now + valid_for_s
    db = xdg_cache_home / KEYCACHE_RELPATH
    db.parent.mkdir(parents=True, exist_ok=True)
    for d in (xdg_cache_home, db.parent):
        d.chmod(0o700)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS keycache (issuer text UNIQUE PRIMARY KEY NOT NULL, keys text NOT NULL)"
        )
        for issuer in issuers:
            row = json.dumps({"jwks": issuer.jwks(), "next_update": until, "expires": until})
            conn.execute("INSERT OR REPLACE INTO keycache (issuer, keys) VALUES (?, ?)", (issuer.url, row))
    conn.close()
    db.chmod(0o600)
    if owner:
        chown_paths([xdg_cache_home], owner)
    return db


class IssuerServer:
    """HTTPS discovery + JWKS endpoint for published issuers, on 127.0.0.1 and a free port.

    Serves ``<path>/.well-known/openid-configuration`` and ``<path>/jwks.json`` for every issuer
    whose URL has ``<path>``. ``hits`` lists the request paths served, to prove a server fetched.
    Use as a context manager; the server thread stops on exit.
    """

    def __init__(self, cert: Path, key: Path, *, hostname: str = "localhost", bind: str = "127.0.0.1") -> None:
        self._cert, self._key, self._hostname, self._bind = cert, key, hostname, bind
        self._docs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._hits: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise TopologyError("issuer server is not running")
        return int(self._httpd.server_address[1])

    @property
    def hits(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._hits)

    def url(self, path: str = "") -> str:
        return f"https://{self._hostname}:{self.port}{path}"

    def publish(self, issuer: TokenIssuer) -> None:
        parts = urlsplit(issuer.url)
        if parts.port != self.port:
            raise UserError(f"issuer {issuer.url} is not on this server (port {self.port})")
        with self._lock:
            self._docs[parts.path + "/.well-known/openid-configuration"] = _json(issuer.openid_configuration())
            self._docs[f"/.well-known/oauth-authorization-server{parts.path}"] = _json(issuer.openid_configuration())
            self._docs[parts.path + "/jwks.json"] = _json(issuer.jwks())

    def __enter__(self) -> IssuerServer:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self._cert), str(self._key))
        self._httpd = ThreadingHTTPServer((self._bind, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="issuer-https", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server API name
                path = urlsplit(self.path).path
                with server._lock:
                    server._hits.append(path)
                    body = server._docs.get(path)
                self.send_response(200 if body is not None else 404)
                payload = body if body is not None else b'{"error": "not found"}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                return

        return Handler


# --------------------------------------------------------------------------- helpers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _compact(header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes | None) -> str:
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}"
    return signing_input if signature is None else f"{signing_input}.{_b64(signature)}"


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(_unb64(body))
    claims["scope"] = "storage.read:/ storage.modify:/ storage.create:/"
    claims["sub"] = str(claims.get("sub", "")) + "-tampered"
    return f"{head}.{_b64(_json(claims))}.{sig}"


def _jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    nums = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
        "kid": kid,
        "x": _b64(nums.x.to_bytes(32, "big")),
        "y": _b64(nums.y.to_bytes(32, "big")),
    }


def _kid(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "harness-" + hashlib.sha256(der).hexdigest()[:16]
