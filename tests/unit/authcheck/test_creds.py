"""Each probe's environment: one credential, nothing ambient; secrets 0600 and gone after destroy()."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import jwt
import pytest

from harness.auth import WLCG_ANY_AUDIENCE
from harness.authcheck.creds import Credentials, Endpoints
from harness.authcheck.matrix import AuthMatrix

ENDPOINTS = Endpoints("https://localhost:2", "https://localhost:1", "https://localhost:2")
pytestmark = pytest.mark.skipif(shutil.which("voms-proxy-fake") is None, reason="voms-proxy-fake not installed")


def claims(env: dict[str, str]) -> dict[str, object]:
    token = Path(env["BEARER_TOKEN_FILE"]).read_text().strip()
    return jwt.decode(token, options={"verify_signature": False})


def test_x509_identity_gets_its_proxy_and_gsi(matrix: AuthMatrix, creds: Credentials, tmp_path: Path) -> None:
    env = creds.client_env(matrix.identities["carol-expired"], tmp_path, ENDPOINTS)
    assert env["X509_USER_PROXY"] == str(creds.pki.proxy("carol", "expired"))  # type: ignore[arg-type]
    assert env["XrdSecPROTOCOL"] == "gsi" and env["X509_CERT_DIR"] == str(creds.pki.certdir)
    assert not Path(env["BEARER_TOKEN_FILE"]).exists()
    assert env["HOME"] == env["XDG_RUNTIME_DIR"] and not any(Path(env["HOME"]).iterdir())
    voms = creds.client_env(matrix.identities["alice-cta"], tmp_path / "a", ENDPOINTS)["X509_USER_PROXY"]
    assert voms.endswith("/alice/proxies/voms.pem")  # the default proxy of a VO member is its VOMS proxy


def test_token_identity_gets_a_fresh_0600_token_and_no_proxy(matrix: AuthMatrix, creds: Credentials,
                                                             tmp_path: Path) -> None:
    env = creds.client_env(matrix.identities["tok-cta"], tmp_path, ENDPOINTS)
    # X509_USER_PROXY must be unset: XrdCl loads it as its TLS client certificate, and a missing
    # file makes it log in without TLS, which ztn refuses
    assert "X509_USER_PROXY" not in env and env["XrdSecPROTOCOL"] == "ztn"
    assert stat.S_IMODE(Path(env["BEARER_TOKEN_FILE"]).stat().st_mode) == 0o600
    first = claims(env)
    assert first["aud"] == "https://localhost:2" and first["scope"] == "storage.read:/cta"
    assert claims(creds.client_env(matrix.identities["tok-cta"], tmp_path, ENDPOINTS))["jti"] != first["jti"]


@pytest.mark.parametrize(("identity", "audience"), [
    ("tok-origin-aud", "https://localhost:1"), ("tok-any-aud", WLCG_ANY_AUDIENCE),
    ("tok-wrong-aud", "https://other.example"),
])
def test_symbolic_audiences_resolve(matrix: AuthMatrix, creds: Credentials, tmp_path: Path, identity: str,
                                    audience: str) -> None:
    assert claims(creds.client_env(matrix.identities[identity], tmp_path, ENDPOINTS))["aud"] == audience


def test_no_credential_means_none_at_all(matrix: AuthMatrix, creds: Credentials, tmp_path: Path) -> None:
    env = creds.client_env(matrix.identities["anonymous"], tmp_path, ENDPOINTS)
    assert "X509_USER_PROXY" not in env and not Path(env["BEARER_TOKEN_FILE"]).exists()
    assert env["XrdSecPROTOCOL"] == "gsi,ztn"


def test_destroy_removes_every_secret(matrix: AuthMatrix, tmp_path: Path) -> None:
    creds = Credentials.create(matrix, tmp_path / "creds", None)
    assert creds.robot_token(matrix, "https://localhost:1").startswith("eyJ")
    assert creds.robot_proxy().is_file()
    creds.destroy()
    assert not (tmp_path / "creds").exists()
