"""Facts about the host and the software, recorded in every run.json so runs compare."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata


def host_facts() -> dict[str, object]:
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "python": platform.python_version(),
    }


def software_versions() -> dict[str, str]:
    return {
        "xcache-harness": _dist_version("xcache-harness"),
        "xrootd-python": _dist_version("xrootd"),
        "xrootd-server": local_xrootd_version(),
    }


def local_xrootd_version() -> str:
    """``xrootd -v`` prints the version (e.g. v5.5.3) on stderr."""
    try:
        done = subprocess.run(["xrootd", "-v"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (done.stderr or done.stdout).strip().lstrip("v") or "unknown"


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            return int(meminfo.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
