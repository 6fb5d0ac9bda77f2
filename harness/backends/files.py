"""A server's files on the host side, shared by the backends: ownership, staged data, environment."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

Owner = tuple[int, int] | None  # (uid, gid) of the server user; None: leave ownership as it is


def chown_tree(path: Path, uid: int, gid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, uid, gid)


def write_staged(data_dir: Path, path: str, chunks: Iterable[bytes], owner: Owner) -> None:
    """Write one staged file straight into a server's storage and give it (and new parents) to the server.

    Only the file and the directories up to ``data_dir`` are chowned: walking the whole tree per
    file would make staging many small files quadratic.
    """
    target = data_dir / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    if owner is None:
        return
    node = target
    while node != data_dir.parent:
        os.chown(node, *owner)
        node = node.parent


def server_environment(home: str, extra: Mapping[str, str]) -> dict[str, str]:
    """An explicit, clean environment: a client's BEARER_TOKEN or X509_* leaking into a server breaks it."""
    base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LANG": "C", "HOME": home,
            "XDG_CACHE_HOME": f"{home}/xdgcache"}
    return base | dict(extra)
