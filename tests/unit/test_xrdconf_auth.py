"""Golden files for the auth part of server configs. Regenerate with UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.xrdconf.auth import AuthPaths, Issuer, ServerAuth, Upstream, render_auth, upstream_env

GOLDEN = Path(__file__).parent / "golden"
AUTHDB = ("u * /data/public/ rl", "g /escape/cta /data/cta/ rl", "= xcache o: escape g: /escape/xcache",
          "s xcache /data/ rl")
ISSUERS = (Issuer("harness", "https://localhost:8443/issuer"),)


def paths(role: str) -> AuthPaths:
    return AuthPaths(f"/pki/hosts/{role}/hostcert.pem", f"/pki/hosts/{role}/hostkey.pem", "/pki/certificates",
                     "/pki/vomsdir", f"/srv/{role}/auth", f"/srv/{role}/auth/xdgcache")


ORIGIN = ServerAuth("origin", paths("origin"), AUTHDB, ISSUERS, ("https://localhost:1094",))
CACHE = ServerAuth("cache", paths("cache"), AUTHDB[:2], ISSUERS, ("https://localhost:1095",),
                   upstream=Upstream("robot-proxy", "/pki/users/xcache-robot/proxies/voms.pem"))


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize(("name", "spec"), [("origin", ORIGIN), ("cache", CACHE)])
def test_golden(name: str, spec: ServerAuth) -> None:
    rendered = render_auth(spec)
    golden(f"{name}-auth.cfg", rendered.config)
    files = {Path(p).name: text for p, text in rendered.files.items()}
    assert set(files) == {"authdb", "scitokens.cfg"}
    golden(f"{name}.authdb", files["authdb"])
    golden(f"{name}.scitokens.cfg", files["scitokens.cfg"])


def directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_silent_traps_are_avoided() -> None:
    lines = directives(render_auth(ORIGIN).config)
    index = {line.split()[0] + " " + line.split()[1]: i for i, line in enumerate(lines)}
    assert "xrootd.seclib libXrdSec.so" in lines  # without it every sec.* line is ignored
    assert index["sec.protparm gsi"] < index["sec.protocol gsi"]  # after it, protparm is dropped
    gsi = next(line for line in lines if line.startswith("sec.protocol gsi"))
    assert " -ca:2 " in gsi and "-ca:verify" not in gsi  # 'verify' is atoi()'d to 0 = noverify
    assert "-crldir:/pki/certificates" in gsi
    assert "http.header2cgi Authorization authz" in lines
    assert not any(line.startswith("sec.protocol ztn -expiry") for line in lines)  # inverted in 5.5.3
    assert "ofs.authlib ++ libXrdAccSciTokens.so config=/srv/origin/auth/scitokens.cfg" in lines
    assert not any(line.startswith(("pss.trace", "http.trace")) for line in lines)  # they can log CGI tokens


def test_files_live_in_the_auth_dir_and_the_config_names_them() -> None:
    rendered = render_auth(ORIGIN)
    assert set(rendered.files) == {"/srv/origin/auth/authdb", "/srv/origin/auth/scitokens.cfg"}
    assert "acc.authdb /srv/origin/auth/authdb" in rendered.config
    scitokens = rendered.files["/srv/origin/auth/scitokens.cfg"]
    assert "audience = https://localhost:1094\n" in scitokens
    assert "[Issuer harness]\nissuer = https://localhost:8443/issuer\nbase_path = /data\n" in scitokens


def test_without_authorization_only_authentication_remains() -> None:
    spec = ServerAuth("cache", paths("cache"), AUTHDB, ISSUERS, ("https://c",), authorize=False)
    rendered = render_auth(spec)
    lines = directives(rendered.config)
    assert rendered.files == {}
    assert not any(line.startswith(("ofs.authorize", "acc.", "ofs.authlib", "scitokens.")) for line in lines)
    assert "sec.protbind * only gsi ztn" in lines and "xrootd.seclib libXrdSec.so" in lines


def test_server_environment_and_robot_credentials() -> None:
    env = render_auth(CACHE).env
    assert env == {"X509_CERT_DIR": "/pki/certificates", "X509_VOMS_DIR": "/pki/vomsdir",
                   "XDG_CACHE_HOME": "/srv/cache/auth/xdgcache",
                   "X509_USER_PROXY": "/pki/users/xcache-robot/proxies/voms.pem", "XrdSecPROTOCOL": "gsi"}
    assert "X509_USER_PROXY" not in render_auth(ORIGIN).env
    assert upstream_env(Upstream("robot-token", "/t/robot.jwt")) == {"BEARER_TOKEN_FILE": "/t/robot.jwt",
                                                                     "XrdSecPROTOCOL": "ztn"}


def test_no_https_directives_without_http() -> None:
    spec = ServerAuth("origin", paths("origin"), AUTHDB, ISSUERS, ("https://o",), http=False)
    text = render_auth(spec).config
    assert "http." not in text and "xrd.tls " in text  # ztn still needs TLS
