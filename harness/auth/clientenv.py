"""The environment of a client process that may authenticate only with what it is handed.

Used for auth-check probes, scenario clients holding proxies and the token fault case: each starts
from nothing ambient, so a stray ``~/.globus`` proxy, ``/tmp/x509up_u<uid>`` or ``bt_u<uid>`` token
can never stand in for the credential under test.
"""

from __future__ import annotations

from pathlib import Path

CLIENT_PATH = "/usr/bin:/bin"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where ``python -m harness.…`` finds the harness


def isolated_env(home: Path, values: dict[str, str], path: str = CLIENT_PATH, python: bool = False) -> dict[str, str]:
    """``values`` over a bare base: HOME and XDG_RUNTIME_DIR an empty private directory (created 0700),
    UTC and a UTF-8 locale; ``python`` adds PYTHONPATH for a harness module run as a process."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {"PATH": path, "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "TZ": "UTC", "LANG": "C.UTF-8"}
    if python:
        env["PYTHONPATH"] = str(PACKAGE_ROOT)
    return env | values
