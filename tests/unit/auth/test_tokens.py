"""Unit tests for harness.auth.tokens: minting, JWKS, the HTTPS discovery server and key-cache
seeding. No XRootD server is needed; the HTTPS server binds 127.0.0.1 on a free port."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pwd
import sqlite3
import stat
import time
from pathlib import Path

import jwt
import pytest
import requests

from harness.auth.pki import HostSpec, Pki, PkiSpec, write_pki
from harness.auth.tokens import (
    KEYCACHE_RELPATH,
    WLCG_ANY_AUDIENCE,
    IssuerServer,
    Signing,
    TokenIssuer,
    TokenSpec,
    negative_variants,
    seed_key_cache,
    write_token,
)
from harness.errors import UserError

ISS = "https://localhost:8443/issuer"
AUD = "https://localhost:1094"
BASE = TokenSpec(subject="alice", scopes=("storage.read:/cta",), audience=(AUD,))


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISS)


def _parts(token: str) -> tuple[dict[str, object], dict[str, object], bytes]:
    head, body, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
        base64.urlsafe_b64decode(pad(sig)),
    )


def _verify_with_jwks(token: str, jwks: dict[str, object], audience: str = AUD) -> dict[str, object]:
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}  # type: ignore[attr-defined]
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(token, keys[kid], algorithms=["ES256"], audience=audience, issuer=ISS)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- keys and JWKS


def test_jwks_publishes_one_p256_key(issuer: TokenIssuer) -> None:
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["kid"] == issuer.kid
    assert len(key["x"]) == len(key["y"]) == 43 and "=" not in key["x"]  # 32 bytes, base64url, unpadded
    assert issuer.unknown_kid != issuer.kid
    assert issuer.openid_configuration() == {"issuer": ISS, "jwks_uri": ISS + "/jwks.json"}


def test_repr_holds_no_key_material(issuer: TokenIssuer) -> None:
    text = repr(issuer)
    assert "PRIVATE" not in text and "EllipticCurve" not in text


def test_issuer_url_without_trailing_slash() -> None:
    with pytest.raises(UserError, match="trailing slash"):
        TokenIssuer.generate(ISS + "/")


def test_at_keeps_keys(issuer: TokenIssuer) -> None:
    moved = issuer.at("https://localhost:9999/x")
    assert moved.url.endswith(":9999/x") and moved.jwks() == issuer.jwks()


# ---------------------------------------------------------------- claims


def test_valid_token_claims_and_signature(issuer: TokenIssuer) -> None:
    spec = dataclasses.replace(BASE, groups=("/escape/cta",), lifetime_s=900)
    token = issuer.mint(spec, now=int(time.time()))
    header, claims, _ = _parts(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": issuer.kid}
    assert claims["wlcg.ver"] == "1.0" and claims["iss"] == ISS and claims["sub"] == "alice"
    assert claims["aud"] == AUD and claims["scope"] == "storage.read:/cta"
    assert claims["wlcg.groups"] == ["/escape/cta"]
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]  # type: ignore[operator]
    assert _verify_with_jwks(token, issuer.jwks())["sub"] == "alice"
    assert issuer.verify(token, AUD)["scope"] == "storage.read:/cta"


def test_python_scitokens_accepts_token(issuer: TokenIssuer) -> None:
    scitokens = pytest.importorskip("scitokens")
    tok = scitokens.SciToken.deserialize(issuer.mint(BASE), public_key=issuer.public_pem(), audience=AUD)
    assert tok["scope"] == "storage.read:/cta"


def test_multiple_audiences_and_scopes(issuer: TokenIssuer) -> None:
    spec = TokenSpec(scopes=("storage.read:/a", "storage.create:/b"), audience=(AUD, "https://localhost:1095"))
    _, claims, _ = _parts(issuer.mint(spec))
    assert claims["aud"] == [AUD, "https://localhost:1095"]
    assert claims["scope"] == "storage.read:/a storage.create:/b"


def test_default_audience_is_wlcg_any() -> None:
    assert TokenSpec().audience == (WLCG_ANY_AUDIENCE,)


def test_jti_unique_and_extra_and_omit(issuer: TokenIssuer) -> None:
    spec = dataclasses.replace(BASE, extra=(("opt", {"k": 1}),), omit=("nbf",))
    a, b = _parts(issuer.mint(spec))[1], _parts(issuer.mint(spec))[1]
    assert a["jti"] != b["jti"] and a["opt"] == {"k": 1} and "nbf" not in a


def test_scope_must_be_one_word() -> None:
    with pytest.raises(UserError):
        TokenSpec(scopes=("storage.read:/a storage.read:/b",))


# ---------------------------------------------------------------- negative variants


@pytest.fixture(scope="module")
def negatives(issuer: TokenIssuer) -> dict[str, str]:
    return {name: issuer.mint(spec) for name, spec in negative_variants(BASE).items()}


def test_every_negative_variant_is_rejected_by_a_correct_verifier(
    issuer: TokenIssuer, negatives: dict[str, str]
) -> None:
    accepted = []
    for name, token in negatives.items():
        try:
            claims = issuer.verify(token, AUD)
        except (jwt.InvalidTokenError, jwt.InvalidKeyError, KeyError):
            continue
        if "scope" in claims:  # no_scope is valid JWT-wise; servers reject it for lack of scope
            accepted.append(name)
    assert accepted == []


def test_expired_and_future_times(negatives: dict[str, str]) -> None:
    now = time.time()
    assert _parts(negatives["expired"])[1]["exp"] < now  # type: ignore[operator]
    assert _parts(negatives["not_yet_valid"])[1]["nbf"] > now + 500  # type: ignore[operator]
    assert _parts(negatives["issued_in_future"])[1]["iat"] > now + 500  # type: ignore[operator]


def test_claim_level_negatives(negatives: dict[str, str]) -> None:
    assert _parts(negatives["wrong_audience"])[1]["aud"] == "https://other.example"
    assert _parts(negatives["wrong_issuer"])[1]["iss"] != ISS
    assert "scope" not in _parts(negatives["no_scope"])[1]


def test_signature_negatives(issuer: TokenIssuer, negatives: dict[str, str]) -> None:
    assert _parts(negatives["unknown_key"])[0]["kid"] == issuer.unknown_kid
    assert _parts(negatives["wrong_key"])[0]["kid"] == issuer.kid
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_with_jwks(negatives["wrong_key"], issuer.jwks())
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_with_jwks(negatives["tampered"], issuer.jwks())
    assert "storage.modify:/" in str(_parts(negatives["tampered"])[1]["scope"])
    header, _, sig = _parts(negatives["alg_none"])
    assert header["alg"] == "none" and sig == b""
    assert _parts(negatives["hs256"])[0]["alg"] == "HS256"
    with pytest.raises(jwt.InvalidAlgorithmError):
        _verify_with_jwks(negatives["hs256"], issuer.jwks())


def test_signing_enum_covers_variants() -> None:
    assert {s.value for s in Signing} == {
        "valid",
        "unknown_key",
        "wrong_key",
        "tampered",
        "alg_none",
        "hs256",
    }


# ---------------------------------------------------------------- files


def test_write_token_0600_even_with_open_umask(tmp_path: Path, issuer: TokenIssuer) -> None:
    old = os.umask(0)
    try:
        path = write_token(issuer.mint(BASE), tmp_path / "sub" / "t.jwt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip().count(".") == 2


def test_seed_key_cache_layout(tmp_path: Path, issuer: TokenIssuer) -> None:
    other = TokenIssuer.generate("https://localhost:8443/other")
    db = seed_key_cache(tmp_path / "xdg", [issuer, other], owner=None, now=1_700_000_000)
    assert db == tmp_path / "xdg" / KEYCACHE_RELPATH and db.name == "scitokens_cpp.sqllite"
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700 and stat.S_IMODE(db.stat().st_mode) == 0o600
    with sqlite3.connect(db) as conn:
        schema = conn.execute("SELECT sql FROM sqlite_master WHERE name='keycache'").fetchone()[0]
        rows = dict(conn.execute("SELECT issuer, keys FROM keycache").fetchall())
    assert "issuer text UNIQUE PRIMARY KEY NOT NULL" in schema
    row = json.loads(rows[ISS])
    assert row["jwks"] == issuer.jwks()
    assert isinstance(row["next_update"], int) and isinstance(row["expires"], int)  # picojson needs ints
    assert row["expires"] > 1_700_000_000 + 5 * 365 * 24 * 3600
    assert json.loads(rows["https://localhost:8443/other"])["jwks"] == other.jwks()


def test_seed_key_cache_is_idempotent_and_chowns(tmp_path: Path, issuer: TokenIssuer) -> None:
    me = pwd.getpwuid(os.getuid()).pw_name
    seed_key_cache(tmp_path, [issuer], owner=me)
    db = seed_key_cache(tmp_path, [issuer], owner=me)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM keycache").fetchone()[0] == 1
    assert db.stat().st_uid == os.getuid()


def test_nothing_printed(tmp_path: Path, issuer: TokenIssuer, capsys: pytest.CaptureFixture[str]) -> None:
    write_token(issuer.mint(BASE), tmp_path / "t")
    seed_key_cache(tmp_path / "x", [issuer], owner=None)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- HTTPS discovery server


@pytest.fixture(scope="module")
def host_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return write_pki(PkiSpec(hosts=(HostSpec("issuer"),), negatives=False), tmp_path_factory.mktemp("ipki") / "t")


def test_issuer_server_serves_discovery_and_jwks(host_pki: Pki) -> None:
    host = host_pki.host("issuer")
    with IssuerServer(host.cert, host.key) as srv:
        issuer = TokenIssuer.generate(srv.url("/issuer"))
        srv.publish(issuer)
        ca = str(host_pki.ca_cert)
        meta = requests.get(issuer.url + "/.well-known/openid-configuration", verify=ca, timeout=10).json()
        assert meta["issuer"] == issuer.url
        jwks = requests.get(meta["jwks_uri"], verify=ca, timeout=10).json()
        token = issuer.mint(BASE)
        keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
        claims = jwt.decode(token, keys[issuer.kid], algorithms=["ES256"], audience=AUD, issuer=issuer.url)
        assert claims["sub"] == "alice"
        assert requests.get(srv.url("/nothing"), verify=ca, timeout=10).status_code == 404
        assert srv.hits == ("/issuer/.well-known/openid-configuration", "/issuer/jwks.json", "/nothing")
        with pytest.raises(UserError):
            srv.publish(TokenIssuer.generate("https://localhost:1/elsewhere"))


def test_issuer_server_stops(host_pki: Pki) -> None:
    host = host_pki.host("issuer")
    with IssuerServer(host.cert, host.key) as srv:
        url = srv.url("/x")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, verify=str(host_pki.ca_cert), timeout=3)
