"""Readers: how the harness reads data and records each operation.

Every reader executes a ``harness.plan.ReadPlan`` against a ``ReadTarget`` and returns one
``OpRecord`` (start, time to first byte, duration, bytes, verification, error); it never raises
for a failed read, so a phase can count its errors.
"""

from __future__ import annotations

from typing import Literal, Protocol

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget

ReadProtocol = Literal["root", "https"]


class Reader(Protocol):
    name: str  # recorded in OpRecord.reader: xroot | https | xrdcp | curl

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord: ...


def make_reader(protocol: ReadProtocol, request_size: int, in_flight: int, timeout_s: int,
                ca_path: str | None = None, token: str | None = None, cert: str | None = None,
                token_file: str | None = None) -> Reader:
    """The harness' own reader for ``protocol``; https also serves plain http:// targets.

    ``token`` authorises each read (root:// CGI, https header) and ``token_file`` (the same token)
    is what a root:// login presents; ``cert`` is a proxy file for https (root:// finds a proxy
    through X509_USER_PROXY, once per process)."""
    if protocol == "root":
        from harness.readers.xroot import XrootReader

        return XrootReader(request_size, in_flight, timeout_s, token, token_file)
    from harness.readers.https import HttpsReader

    return HttpsReader(request_size, in_flight, timeout_s, ca_path, token=token, cert=cert)


__all__ = ["Reader", "make_reader"]
