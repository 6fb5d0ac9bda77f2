"""TLS for plain servers: each server's own copies of the run's certificate, named as the server sees them."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from cryptography import x509

from harness.backends import Placement
from harness.tlsserver import TlsServers, tls_name


def test_tls_servers_give_each_server_its_own_copies_named_as_it_sees_them(tmp_path: Path) -> None:
    me = pwd.getpwuid(os.getuid()).pw_name
    tls = TlsServers.create(tmp_path / "pki", server_user=me, aliases=("pic-origin", "lapp-xcache"))
    placement = Placement("lapp-xcache", "cache", "172.18.0.3", 1095, "lapp-xcache", "/srv/xrd/data",
                          "/srv/xrd/adm", "172.18.0.1", server_dir="/srv/xrd", host_dir=str(tmp_path / "x"))
    extras = tls(placement, {})
    assert "xrd.tls /srv/xrd/tls/hostcert.pem /srv/xrd/tls/hostkey.pem" in extras.config
    assert "xrd.tlsca certdir /srv/xrd/tls/certificates" in extras.config
    assert all(path.startswith("/srv/xrd/tls/") for path in extras.files)
    assert any(path.endswith(".0") for path in extras.files)  # the hashed CA xrootd looks up
    pem = extras.files["/srv/xrd/tls/hostcert.pem"]
    cert = x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    assert tls_name(placement) in names and "pic-origin" in names
