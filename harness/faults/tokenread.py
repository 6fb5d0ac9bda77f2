"""A read that outlives its token, as its own process: ``python -m harness.faults.tokenread``.

Its own process because XrdCl reads the token once per process and reuses the login. It opens
URL with the token of ``BEARER_TOKEN_FILE``, reads the first half, waits until UNTIL (a Unix time
after the token's expiry: the waiting is the fault), reads the rest, and writes one JSON line:
bytes read, their adler32, and the first error. It never writes the token.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Sequence

CHUNK = 1024**2
TIMEOUT_S = 20


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.faults.tokenread")
    parser.add_argument("url")
    parser.add_argument("size", type=int)
    parser.add_argument("until", type=float)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(read_across(args.url, args.size, args.until)) + "\n")
    return 0


def read_across(url: str, size: int, until: float) -> dict[str, object]:
    from XRootD import client
    from XRootD.client.flags import OpenFlags

    handle = client.File()
    status, _ = handle.open(url, OpenFlags.READ, timeout=TIMEOUT_S)
    if not status.ok:
        return {"bytes": 0, "adler32": 1, "error": f"open: {status.message.strip()}"}
    checksum, offset, error = 1, 0, None
    try:
        while offset < size and error is None:
            if offset >= size // 2:
                # The fault itself, not a readiness wait: the second half is read only after the token's
                # expiry, a moment on the clock that no server condition announces.
                time.sleep(max(0.0, until - time.time()))
            status, data = handle.read(offset, min(CHUNK, size - offset), timeout=TIMEOUT_S)
            if not status.ok:
                error = f"read at {offset}: {status.message.strip()}"
                break
            checksum = zlib.adler32(data, checksum)
            offset += len(data)
    finally:
        handle.close(timeout=TIMEOUT_S)
    return {"bytes": offset, "adler32": checksum, "error": error, "read_after": time.time() >= until}


if __name__ == "__main__":
    sys.exit(main())
