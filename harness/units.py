"""Byte sizes as people write them in scenario files ("64MiB", "1g", 4096)."""

from __future__ import annotations

import re

_UNITS = {
    "": 1, "b": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: object) -> int:
    """Return a byte count for ``value``; raises ValueError with the accepted forms.

    Single letters follow XRootD's own directives (``pfc.blocksize 1M`` means MiB).
    """
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a string like '64MiB'")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"{value!r} is not a size (examples: 4096, '512k', '64MiB', '2GB')")
    return int(float(match.group(1)) * _UNITS[unit])


def xrd_size(n: int) -> str:
    """Render a byte count the way XRootD directives expect (``1m``, ``512k``, ``4096``)."""
    for suffix, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)
