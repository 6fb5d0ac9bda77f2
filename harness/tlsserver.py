"""https:// on plain (no-auth) origins and caches: a throwaway CA and one host certificate per run,
handed to every server as a topology extras provider (``Topology(extras=TlsServers.create(...))``).

Readers verify the servers against ``ca_file``; nothing is trusted beyond this run. The local
backend's servers read the PKI where it was written; the key is 0600 and owned by the server user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.auth.pki import HostSpec, Pki, PkiSpec, write_pki
from harness.backends import Placement
from harness.topology import ServerExtras
from harness.xrdconf.render import TlsPaths, render_tls

HOST = "xcache-harness-server"  # SAN also has localhost, 127.0.0.1 and ::1


@dataclass(frozen=True)
class TlsServers:
    """Extras provider: ``xrd.tls`` with the run's host certificate for every server."""

    pki: Pki

    @classmethod
    def create(cls, root: Path, server_user: str = "xrootd", aliases: tuple[str, ...] = ()) -> TlsServers:
        """Write the CA and host certificate under ``root`` (absent or empty, traversable by ``server_user``)."""
        pki = write_pki(PkiSpec(hosts=(HostSpec(HOST, aliases),), negatives=False, key_bits=2048), root)
        pki.chown_server_side(server_user)
        return cls(pki)

    @property
    def ca_file(self) -> str:
        """The CA certificate a client verifies the servers with (``curl --cacert``, ``requests verify=``)."""
        return str(self.pki.ca_cert)

    @property
    def paths(self) -> TlsPaths:
        host = self.pki.host(HOST)
        return TlsPaths(str(host.cert), str(host.key), str(self.pki.certdir))

    def __call__(self, _placement: Placement, _started: Mapping[str, Placement]) -> ServerExtras:
        return ServerExtras(config="\n".join(render_tls(self.paths)) + "\n")


def https_url(placement: Placement) -> str:
    """The server's https:// base URL (the same port serves root://, http:// and https://)."""
    return f"https://{placement.host}:{placement.port}"
