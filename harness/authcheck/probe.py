"""One auth case as a client, in its own process: ``python -m harness.authcheck.probe``.

Why a process per case: XrdCl reuses a login for every request to the same host and reads the
GSI proxy and the ztn token once per process, so a second identity in one process would silently
act as the first. The harness starts this program with a minimal explicit environment
(X509_CERT_DIR, X509_USER_PROXY or BEARER_TOKEN_FILE, an empty HOME) and reads the one JSON line
it writes to stdout (a ``ProbeResult``). It is its own program, so it writes that line itself;
it never writes a credential (messages come from the server or the TLS library).

https uses ``requests`` with the same credentials: the proxy file as client certificate (it holds
the proxy certificate, its key and the user certificate), the token as ``Authorization: Bearer``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

READ_LIMIT = 64 * 1024 * 1024
WRITE_BYTES = b"xcache-harness auth probe\n" * 40
HTTP_TIMEOUT_S = 15
XRD_TIMEOUT_S = 10


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.authcheck.probe")
    parser.add_argument("--protocol", choices=("root", "https"), required=True)
    parser.add_argument("--op", choices=("read", "write", "stat"), required=True)
    parser.add_argument("--host", required=True, help="host:port")
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", default="Authorization", help="https: header carrying the token")
    args = parser.parse_args(argv)
    try:
        if args.protocol == "root":
            result = _root(args.op, args.host, args.path)
        else:
            result = _https(args.op, args.host, args.path, args.header)
    except Exception as exc:  # anything unforeseen is still one JSON line the harness can judge
        result = {"transport": "exception", "ok": False, "message": f"{type(exc).__name__}: {exc}"[:300]}
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: end quietly
        result = {"transport": "exception", "ok": False, "message": "interrupted"}
    result["pid"] = os.getpid()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _root(op: str, host: str, path: str) -> dict[str, Any]:
    from XRootD import client
    from XRootD.client.flags import OpenFlags

    if op == "stat":
        status, _ = client.FileSystem(f"root://{host}").stat(path, timeout=XRD_TIMEOUT_S)
        return _status(status)
    url = f"root://{host}/{path}"
    handle = client.File()
    flags = OpenFlags.READ if op == "read" else OpenFlags.NEW | OpenFlags.MAKEPATH
    status, _ = handle.open(url, flags, timeout=XRD_TIMEOUT_S)
    if not status.ok:
        return _status(status)
    try:
        if op == "write":
            status, _ = handle.write(WRITE_BYTES, timeout=XRD_TIMEOUT_S)
            return _status(status) | {"nbytes": len(WRITE_BYTES) if status.ok else 0}
        status, info = handle.stat(timeout=XRD_TIMEOUT_S)
        if not status.ok:
            return _status(status)
        status, data = handle.read(0, min(int(info.size), READ_LIMIT), timeout=XRD_TIMEOUT_S)
        data = data or b""
        return _status(status) | {"nbytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    finally:
        handle.close(timeout=XRD_TIMEOUT_S)


def _status(status: Any) -> dict[str, Any]:
    return {"transport": "xrootd", "ok": bool(status.ok), "code": int(status.code), "errno": int(status.errno),
            "message": str(status.message).strip()[:300]}


def _https(op: str, host: str, path: str, header: str) -> dict[str, Any]:
    import requests

    proxy = os.environ.get("X509_USER_PROXY")
    token_file = os.environ.get("BEARER_TOKEN_FILE")
    headers = {}
    if token_file and os.path.isfile(token_file):
        with open(token_file, encoding="ascii") as fh:
            headers[header] = "Bearer " + fh.read().strip()
    cert = (proxy, proxy) if proxy and os.path.isfile(proxy) else None
    method = {"read": "GET", "stat": "HEAD", "write": "PUT"}[op]
    try:
        response = requests.request(
            method, f"https://{host}{path}", headers=headers, cert=cert, timeout=HTTP_TIMEOUT_S,
            verify=os.environ.get("X509_CERT_DIR", True), data=WRITE_BYTES if op == "write" else None,
            allow_redirects=False,
        )
    except requests.exceptions.SSLError as exc:
        return {"transport": "tls", "ok": False, "client_cert": cert is not None, "message": _short(exc)}
    except requests.exceptions.Timeout as exc:
        return {"transport": "timeout", "ok": False, "message": _short(exc)}
    except requests.exceptions.ConnectionError as exc:
        return {"transport": "connection", "ok": False, "client_cert": cert is not None, "message": _short(exc)}
    body = response.content if op == "read" else b""
    result: dict[str, Any] = {
        "transport": "http", "ok": response.ok, "http_status": response.status_code,
        "client_cert": cert is not None, "message": "" if response.ok else response.text.strip()[:200],
    }
    if op == "read" and response.ok:
        result |= {"nbytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return result


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the request started (e.g. while importing)
        sys.exit(130)
