"""Unit tests for harness.auth.pki: real certificates, checked with cryptography (and openssl /
voms-proxy-info2 where installed). No XRootD server is needed."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.auth.pki import (
    LATEST_NOT_AFTER,
    PROXY_CERT_INFO_INHERIT_ALL,
    PROXY_CERT_INFO_OID,
    HostSpec,
    Pki,
    PkiSpec,
    ProxyVariant,
    UserSpec,
    chown_paths,
    dn_slash,
    subject_hash,
    write_pki,
)
from harness.errors import EnvironmentMissing, UserError

VOMS_FAKE = shutil.which("voms-proxy-fake")
OPENSSL = shutil.which("openssl")
needs_voms = pytest.mark.skipif(VOMS_FAKE is None, reason="voms-proxy-fake not installed (Debian: voms-clients)")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
VOMS_AC_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8005.100.100.5")
NOW = dt.datetime.now(dt.UTC)


def _certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A PKI without VOMS users, so it needs nothing but ``cryptography``."""
    spec = PkiSpec(
        hosts=(HostSpec("origin", aliases=("origin.example",)), HostSpec("cache")),
        users=(UserSpec("carol"), UserSpec("mallory", revoked=True)),
    )
    return write_pki(spec, tmp_path_factory.mktemp("pki") / "tree")


@pytest.fixture(scope="module")
def voms_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if VOMS_FAKE is None:
        pytest.skip("voms-proxy-fake not installed (Debian: voms-clients)")
    spec = PkiSpec(
        hosts=(HostSpec("origin"),),
        users=(
            UserSpec("alice", vo="escape", fqans=("/escape/cta",)),
            UserSpec("xcache", vo="escape", fqans=("/escape/xcache",), robot=True),
        ),
    )
    return write_pki(spec, tmp_path_factory.mktemp("vpki") / "tree")


# ---------------------------------------------------------------- CA, hashed dir, CRL


def test_ca_is_a_ca_and_hashed_copy_matches(pki: Pki) -> None:
    (ca,) = _certs(pki.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    hashed = pki.certdir / f"{subject_hash(ca.subject)}.0"
    assert hashed.read_bytes() == pki.ca_cert.read_bytes()


@needs_openssl
def test_subject_hash_matches_openssl(pki: Pki, tmp_path: Path) -> None:
    out = subprocess.run(
        [OPENSSL, "x509", "-hash", "-noout", "-in", str(pki.ca_cert)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert subject_hash(_certs(pki.ca_cert)[0].subject) == out


@needs_openssl
def test_subject_hash_canonicalises_case_and_whitespace(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    messy = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "  Some   Org\tName "),
            x509.NameAttribute(NameOID.COMMON_NAME, "MiXeD Case"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(messy)
        .issuer_name(messy)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "c.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out = subprocess.run(
        [OPENSSL, "x509", "-hash", "-noout", "-in", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert subject_hash(messy) == out
    clean = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ch"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "some org name"),
            x509.NameAttribute(NameOID.COMMON_NAME, "mixed case"),
        ]
    )
    assert subject_hash(clean) == subject_hash(messy)


def test_crl_lists_only_revoked_users(pki: Pki) -> None:
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert pki.crl.name == f"{subject_hash(crl.issuer)}.r0"
    revoked = {r.serial_number for r in crl}
    assert _certs(pki.user("mallory").cert)[0].serial_number in revoked
    assert _certs(pki.user("carol").cert)[0].serial_number not in revoked
    assert crl.is_signature_valid(_certs(pki.ca_cert)[0].public_key())  # type: ignore[arg-type]


# ---------------------------------------------------------------- dates and modes


def test_all_dates_backdated_and_before_2050(pki: Pki) -> None:
    for pem in pki.root.rglob("*.pem"):
        for cert in _certs(pem) if b"CERTIFICATE" in pem.read_bytes() else []:
            assert cert.not_valid_after_utc < LATEST_NOT_AFTER, pem
            if "proxies" not in pem.parts:
                assert cert.not_valid_before_utc <= NOW - dt.timedelta(hours=23), pem


def test_private_files_are_0600_and_dirs_traversable(pki: Pki) -> None:
    private = [h.key for h in pki.hosts] + [u.key for u in pki.users] + [p for u in pki.users for _, p in u.proxies]
    assert private and all(_mode(p) == 0o600 for p in private)
    assert _mode(pki.ca_cert) == 0o644
    for d in [pki.root, pki.certdir, pki.vomsdir, *(h.cert.parent for h in pki.hosts)]:
        assert _mode(d) == 0o755, d


def test_rejects_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "junk").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        write_pki(PkiSpec(), tmp_path)


# ---------------------------------------------------------------- hosts


def test_host_cert_sans_and_usage(pki: Pki) -> None:
    host = pki.host("origin")
    (cert,) = _certs(host.cert)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "origin", "origin.example"]
    assert {str(a) for a in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    cert.verify_directly_issued_by(_certs(pki.ca_cert)[0])
    key = serialization.load_pem_private_key(host.key.read_bytes(), None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


# ---------------------------------------------------------------- proxies


def test_plain_proxy_is_rfc3820_with_critical_proxycertinfo(pki: Pki) -> None:
    proxy, user = _certs(pki.proxy("carol", ProxyVariant.PLAIN))
    ext = proxy.extensions.get_extension_for_oid(PROXY_CERT_INFO_OID)
    assert ext.critical
    assert ext.value.value == PROXY_CERT_INFO_INHERIT_ALL  # type: ignore[attr-defined]
    assert proxy.issuer == user.subject
    assert list(proxy.subject)[:-1] == list(user.subject)
    assert proxy.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[-1].value == str(proxy.serial_number)
    assert proxy.not_valid_after_utc > NOW + dt.timedelta(hours=1)


def test_proxy_chain_verifies_to_trusted_ca(pki: Pki) -> None:
    proxy, user = _certs(pki.proxy("carol", ProxyVariant.PLAIN))
    proxy.verify_directly_issued_by(user)
    user.verify_directly_issued_by(_certs(pki.ca_cert)[0])
    key = serialization.load_pem_private_key(pki.proxy("carol", ProxyVariant.PLAIN).read_bytes(), None)
    assert key.public_key().public_numbers() == proxy.public_key().public_numbers()  # type: ignore[union-attr]


@needs_openssl
def test_openssl_accepts_proxy_chain(pki: Pki) -> None:
    path = pki.proxy("carol", ProxyVariant.PLAIN)
    done = subprocess.run(
        [
            OPENSSL,
            "verify",
            "-allow_proxy_certs",
            "-CApath",
            str(pki.certdir),
            "-untrusted",
            str(pki.user("carol").cert),
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_expired_proxy_is_expired_but_user_cert_is_not(pki: Pki) -> None:
    proxy, user = _certs(pki.proxy("carol", ProxyVariant.EXPIRED))
    assert proxy.not_valid_after_utc < NOW
    assert user.not_valid_after_utc > NOW
    proxy.verify_directly_issued_by(user)


def test_untrusted_ca_proxy_does_not_chain_to_trusted_ca(pki: Pki) -> None:
    _, user = _certs(pki.proxy("carol", ProxyVariant.UNTRUSTED_CA))
    trusted = _certs(pki.ca_cert)[0]
    assert user.subject == _certs(pki.user("carol").cert)[0].subject  # same DN, different issuer key
    with pytest.raises((ValueError, InvalidSignature)):  # ValueError: issuer name differs
        user.verify_directly_issued_by(trusted)
    user.verify_directly_issued_by(_certs(pki.untrusted_ca_cert)[0])
    # only the trusted CA is in the hashed directory
    assert {p.name for p in pki.certdir.glob("*.0")} == {f"{subject_hash(trusted.subject)}.0"}


def test_no_voms_variants_without_vo(pki: Pki) -> None:
    with pytest.raises(UserError, match="no voms proxy"):
        pki.proxy("carol", ProxyVariant.VOMS)
    assert pki.server_env() == {"X509_CERT_DIR": str(pki.certdir), "X509_VOMS_DIR": str(pki.vomsdir)}


def test_ca_bundle_appends_test_ca(pki: Pki, tmp_path: Path) -> None:
    system = tmp_path / "system.pem"
    system.write_bytes(pki.untrusted_ca_cert.read_bytes())  # any PEM stands in for the system bundle
    bundle = pki.write_ca_bundle(tmp_path / "bundle.pem", system)
    subjects = [c.subject for c in _certs(bundle)]
    assert subjects == [_certs(pki.untrusted_ca_cert)[0].subject, _certs(pki.ca_cert)[0].subject]
    assert _mode(bundle) == 0o644
    only = pki.write_ca_bundle(tmp_path / "only.pem", None)
    assert [c.subject for c in _certs(only)] == [_certs(pki.ca_cert)[0].subject]


def test_negatives_can_be_skipped(tmp_path: Path) -> None:
    pki = write_pki(PkiSpec(users=(UserSpec("dave"),), negatives=False), tmp_path / "p")
    assert [v for v, _ in pki.user("dave").proxies] == [ProxyVariant.PLAIN]


# ---------------------------------------------------------------- specs


def test_user_spec_validation() -> None:
    with pytest.raises(UserError):
        UserSpec("bad name")
    with pytest.raises(UserError, match="without a vo"):
        UserSpec("x", fqans=("/escape",))
    with pytest.raises(UserError, match="outside VO"):
        UserSpec("x", vo="escape", fqans=("/atlas/prod",))
    with pytest.raises(UserError, match="duplicate"):
        PkiSpec(users=(UserSpec("a"), UserSpec("a")))


def test_fqans_completed_with_root_group_first() -> None:
    assert UserSpec("a", vo="escape", fqans=("/escape/cta",)).full_fqans() == (
        "/escape/Role=NULL/Capability=NULL",
        "/escape/cta/Role=NULL/Capability=NULL",
    )
    assert UserSpec("b", vo="escape", fqans=("/escape/cta/Role=production", "/escape/Role=lead")).full_fqans() == (
        "/escape/Role=lead/Capability=NULL",
        "/escape/cta/Role=production/Capability=NULL",
    )
    assert UserSpec("c", vo="escape").full_fqans() == ("/escape/Role=NULL/Capability=NULL",)


def test_missing_voms_binary_is_environment_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EnvironmentMissing, match="voms-proxy-fake"):
        write_pki(PkiSpec(users=(UserSpec("a", vo="escape"),)), tmp_path / "p")


# ---------------------------------------------------------------- ownership


def test_chown_to_self_is_silent(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    me = pwd.getpwuid(os.getuid()).pw_name
    chown_paths(pki.server_side_paths(), me)
    assert capsys.readouterr() == ("", "")
    assert pki.host("origin").key.stat().st_uid == os.getuid()


def test_chown_unknown_user() -> None:
    with pytest.raises(EnvironmentMissing, match="no such user"):
        chown_paths([Path("/nonexistent")], "no-such-user-xyz")


# ---------------------------------------------------------------- VOMS (needs voms-proxy-fake)


def _ac_bytes(path: Path) -> bytes:
    proxy = _certs(path)[0]
    return proxy.extensions.get_extension_for_oid(VOMS_AC_OID).value.value  # type: ignore[attr-defined,no-any-return]


def _voms_info(pki: Pki, path: Path) -> str:
    tool = shutil.which("voms-proxy-info2") or shutil.which("voms-proxy-info")
    if tool is None:
        pytest.skip("voms-proxy-info not installed")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "X509_CERT_DIR": str(pki.certdir),
        "X509_VOMS_DIR": str(pki.vomsdir),
        "HOME": str(pki.root),
        "TZ": "UTC",
    }
    return subprocess.run([tool, "--file", str(path), "--all"], capture_output=True, text=True, env=env).stdout


@needs_voms
def test_voms_proxy_carries_fqans_and_is_rfc(voms_pki: Pki) -> None:
    path = voms_pki.proxy("alice", ProxyVariant.VOMS)
    assert _mode(path) == 0o600
    proxy = _certs(path)[0]
    assert proxy.extensions.get_extension_for_oid(PROXY_CERT_INFO_OID).critical
    ac = _ac_bytes(path)
    assert b"/escape/cta/Role=NULL/Capability=NULL" in ac and b"/escape/Role=NULL/Capability=NULL" in ac
    info = _voms_info(voms_pki, path)
    assert "attribute : /escape/cta/Role=NULL/Capability=NULL" in info
    assert "issuer    : /DC=test/DC=xcache-harness/OU=voms/CN=voms.escape" in info


@needs_voms
def test_lsc_names_the_signer(voms_pki: Pki) -> None:
    lsc = voms_pki.vomsdir / "escape" / "localhost.lsc"
    signer = _certs(dict(voms_pki.voms_signers)["escape"])[0]
    assert lsc.read_text().splitlines() == [dn_slash(signer.subject), dn_slash(signer.issuer)]


@needs_voms
@needs_openssl
def test_dn_slash_matches_openssl_compat(voms_pki: Pki) -> None:
    signer = dict(voms_pki.voms_signers)["escape"]
    out = subprocess.run(
        [OPENSSL, "x509", "-in", str(signer), "-noout", "-subject", "-nameopt", "compat"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out.removeprefix("subject=") == dn_slash(_certs(signer)[0].subject)


@needs_voms
def test_expired_ac_has_no_time_left(voms_pki: Pki) -> None:
    path = voms_pki.proxy("alice", ProxyVariant.EXPIRED_AC)
    assert _certs(path)[0].not_valid_after_utc > NOW  # the proxy itself is fine
    info = _voms_info(voms_pki, path)
    vo_part = info.split("=== VO escape extension information ===")[1]
    assert "timeleft  : 0:00:00" in vo_part


@needs_voms
def test_untrusted_voms_signer_is_not_in_lsc(voms_pki: Pki) -> None:
    info = _voms_info(voms_pki, voms_pki.proxy("alice", ProxyVariant.UNTRUSTED_VOMS))
    assert "CN=rogue-voms.escape" in info
    assert "rogue" not in (voms_pki.vomsdir / "escape" / "localhost.lsc").read_text()


@needs_voms
def test_robot_credentials_are_server_side(voms_pki: Pki) -> None:
    assert voms_pki.user("xcache").robot
    assert voms_pki.user("xcache").cert.parent in voms_pki.server_side_paths()
    assert voms_pki.user("alice").cert.parent not in voms_pki.server_side_paths()
