"""https:// on plain (no-auth) origins and caches: a throwaway CA and one host certificate per run,
handed to every server as a topology extras provider (``Topology(extras=TlsServers.create(...))``).

Each server gets its own copy of the certificate, key (0600; the backend gives it to the server
user) and hashed CA dir under ``<server dir>/tls/``, named in its config as the server sees it, so a
container finds them in its bind mount like a local process does. The certificate names the
servers' peer names (``aliases``): the harness may connect to an address the certificate cannot
know in advance (a container IP, a link relay), so readers verify against ``Placement.peer_host``
(``ReadTarget.tls_name``). Readers verify against ``ca_file``; nothing is trusted beyond this run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.auth.pki import HostSpec, Pki, PkiSpec, write_pki
from harness.backends import Placement
from harness.topology import ServerExtras
from harness.xrdconf.render import TlsPaths, render_tls

HOST = "xcache-harness-server"  # SAN also has localhost, 127.0.0.1, ::1 and the aliases


@dataclass(frozen=True)
class TlsServers:
    """Extras provider: ``xrd.tls`` with the run's host certificate for every server."""

    pki: Pki

    @classmethod
    def create(cls, root: Path, server_user: str = "xrootd", aliases: tuple[str, ...] = ()) -> TlsServers:
        """Write the CA and host certificate under ``root`` (absent or empty); ``aliases``: the servers' peer names."""
        pki = write_pki(PkiSpec(hosts=(HostSpec(HOST, aliases),), negatives=False, key_bits=2048), root)
        pki.chown_server_side(server_user)
        return cls(pki)

    @property
    def ca_file(self) -> str:
        """The CA certificate a client verifies the servers with (``curl --cacert``, ``requests verify=``)."""
        return str(self.pki.ca_cert)

    def paths(self, placement: Placement) -> TlsPaths:
        """Where ``placement``'s server finds its TLS files, as it sees them."""
        tls_dir = f"{placement.server_dir or Path(placement.admin_dir).parent}/tls"
        return TlsPaths(f"{tls_dir}/hostcert.pem", f"{tls_dir}/hostkey.pem", f"{tls_dir}/certificates")

    def files(self, placement: Placement) -> dict[str, str | bytes]:
        """The server's copies of certificate, key and hashed CA dir, keyed by path as it sees them."""
        paths, host = self.paths(placement), self.pki.host(HOST)
        files: dict[str, str | bytes] = {paths.cert: host.cert.read_bytes(), paths.key: host.key.read_bytes()}
        return files | {f"{paths.certdir}/{p.name}": p.read_bytes()
                        for p in sorted(self.pki.certdir.iterdir()) if p.is_file()}

    def __call__(self, placement: Placement, _started: Mapping[str, Placement]) -> ServerExtras:
        return ServerExtras(config="\n".join(render_tls(self.paths(placement))) + "\n", files=self.files(placement))


def https_url(placement: Placement) -> str:
    """The server's https:// base URL as the harness reaches it (the same port serves root:// and https://).

    Its host may be an address the certificate does not name: verify against ``tls_name(placement)``."""
    return f"https://{placement.host}:{placement.port}"


def tls_name(placement: Placement) -> str:
    """The name a reader verifies the server's certificate against: its peer name, which the run's
    certificate carries, wherever the harness connects (container IP or relay)."""
    return placement.peer_host
