"""Write a file to a running server over root:// (external endpoints that allow staging).

Only used when a scenario's ``external.allow_staging`` is true: the harness otherwise never
writes to endpoints it did not start.
"""

from __future__ import annotations

from collections.abc import Iterable

from XRootD import client
from XRootD.client.flags import OpenFlags

from harness.errors import ReadError
from harness.plan import ReadTarget


def upload(base_url: str, path: str, chunks: Iterable[bytes], timeout_s: int) -> None:
    """Create (or replace) ``path`` under ``base_url`` with ``chunks``; raise ReadError naming the URL."""
    url = ReadTarget(base_url, path, 0).url
    handle = client.File()
    status, _ = handle.open(url, OpenFlags.DELETE | OpenFlags.MAKEPATH, timeout=timeout_s)
    if not status.ok:
        raise ReadError(f"{url}: cannot stage (open for writing): {status.message.strip()}")
    try:
        offset = 0
        for chunk in chunks:
            status, _ = handle.write(chunk, offset, timeout=timeout_s)
            if not status.ok:
                raise ReadError(f"{url}: cannot stage (write at {offset}): {status.message.strip()}")
            offset += len(chunk)
    finally:
        handle.close(timeout=timeout_s)
