"""Server-side auth files whatever the backend: named as the server sees them, written where the harness
sees them, audiences by peer name, and probes reaching containers by name."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from harness.authcheck.cases import names_file, with_names
from harness.authcheck.creds import Credentials
from harness.authcheck.matrix import AuthMatrix
from harness.authcheck.servers import AuthServers, audience_of, url_of
from harness.backends import Placement
from harness.topology import write_private

MOUNT = "/srv/xrd"
pytestmark = pytest.mark.skipif(shutil.which("voms-proxy-fake") is None, reason="voms-proxy-fake not installed")


def container(name: str, role: str, host_dir: Path, address: str = "172.18.0.2", port: int = 1094) -> Placement:
    """A placement as the docker backend makes it: paths inside the bind mount, reached by address."""
    return Placement(name=name, role=role, host=address, port=port, peer_host=name,  # type: ignore[arg-type]
                     data_dir=f"{MOUNT}/data", admin_dir=f"{MOUNT}/adm", monitor_host="172.18.0.1",
                     server_dir=MOUNT, host_dir=str(host_dir))


def test_on_host_maps_the_servers_own_paths_and_refuses_others(tmp_path: Path) -> None:
    place = container("origin", "origin", tmp_path)
    assert place.on_host(f"{MOUNT}/auth/authdb") == tmp_path / "auth" / "authdb"
    with pytest.raises(ValueError):
        place.on_host("/etc/passwd")
    assert Placement("o", "origin", "localhost", 1, "localhost", "/d", "/a", "127.0.0.1").on_host("/x") == Path("/x")


def test_a_containers_auth_files_are_named_as_it_sees_them(matrix: AuthMatrix, creds: Credentials,
                                                          tmp_path: Path) -> None:
    servers = AuthServers(matrix, creds)
    extras = servers.extras(container("origin", "origin", tmp_path / "origin"), {})
    assert extras.files and all(path.startswith(f"{MOUNT}/auth/") for path in extras.files)
    assert f"xrd.tls {MOUNT}/auth/hostcert.pem {MOUNT}/auth/hostkey.pem" in extras.config
    assert extras.files[f"{MOUNT}/auth/hostkey.pem"] == creds.pki.host("origin").key.read_bytes()
    assert f"{MOUNT}/auth/certificates/ca.pem" in extras.files
    assert any(path.startswith(f"{MOUNT}/auth/vomsdir/") and path.endswith(".lsc") for path in extras.files)
    assert extras.env["X509_CERT_DIR"] == f"{MOUNT}/auth/certificates"
    assert str(creds.root) not in extras.config + "".join(extras.env.values())  # no host path leaks in
    assert "audience = https://origin:1094" in str(extras.files[f"{MOUNT}/auth/scitokens.cfg"])
    assert (tmp_path / "origin" / "auth" / "xdgcache").is_dir()  # the key cache is seeded on the host side
    servers.destroy()
    assert not (tmp_path / "origin" / "auth").exists()


def test_the_robot_token_carries_the_origins_peer_name(matrix: AuthMatrix, creds: Credentials,
                                                       tmp_path: Path) -> None:
    origin = container("origin", "origin", tmp_path / "origin")
    cache = container("token-robot", "cache", tmp_path / "cache", address="172.18.0.3", port=1095)
    extras = AuthServers(matrix, creds).extras(cache, {"origin": origin})
    robot = f"{MOUNT}/auth/robot.jwt"
    assert extras.env["BEARER_TOKEN_FILE"] == robot
    claims = jwt.decode(str(extras.files[robot]).strip(), options={"verify_signature": False})
    assert claims["aud"] in ("https://origin:1094", ["https://origin:1094"])
    assert (audience_of(origin), url_of(origin)) == ("https://origin:1094", "https://172.18.0.2:1094")


def test_the_cache_certificate_names_every_configuration(matrix: AuthMatrix, creds: Credentials) -> None:
    assert set(matrix.configurations) <= set(creds.pki.host("cache").dns_names)


def test_extras_files_are_private_from_the_start(tmp_path: Path) -> None:
    target = tmp_path / "auth" / "hostkey.pem"
    write_private(target, b"key")
    write_private(target, "again")
    assert target.read_text() == "again" and stat.S_IMODE(target.stat().st_mode) == 0o600


def _top(*placements: Placement) -> Any:
    return SimpleNamespace(servers={p.name: SimpleNamespace(placement=p) for p in placements})


def test_probes_reach_local_servers_directly(tmp_path: Path) -> None:
    local = Placement("origin", "origin", "localhost", 1, "localhost", "/d", "/a", "127.0.0.1")
    assert names_file(_top(local), tmp_path / "hosts") is None
    assert with_names(["probe"], None) == ["probe"]


@pytest.mark.skipif(os.geteuid() != 0, reason="private mount namespaces need root")
def test_probes_reach_containers_by_name(tmp_path: Path) -> None:
    hosts = names_file(_top(container("origin", "origin", tmp_path), container("protected", "cache", tmp_path,
                                                                                "172.18.0.3")), tmp_path / "hosts")
    assert hosts is not None
    assert hosts.read_text().splitlines()[:2] == ["172.18.0.2 origin", "172.18.0.3 protected"]
    argv = with_names(["python", "-m", "probe"], hosts)
    assert argv[0] == "unshare" and argv[-3:] == ["python", "-m", "probe"] and str(hosts) in argv
