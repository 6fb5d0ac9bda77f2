"""The settings of a run, flattened to ``name → text`` so two runs can be compared line by line.

Cache settings come first (``pfc.blocksize (xcache)``), then what ran (scenario, XRootD version, backend)
and the workload. Endpoints and times are left out: they differ on every run and explain nothing.
"""

from __future__ import annotations

from typing import Any

SIZE_KEYS = frozenset({"blocksize", "ram", "request_size", "size"})


def run_settings(meta: dict[str, Any]) -> dict[str, str]:
    """Everything in run.json that could explain a difference between two runs."""
    found: dict[str, str] = {}
    for server, about in sorted(meta.get("topology", {}).items()):
        for key, value in (about.get("cache_settings") or {}).items():
            found[f"pfc.{key} ({server})"] = _text(key, value)
    software = meta.get("software", {})
    scenario = meta.get("scenario", {})
    found.update({"scenario": str(scenario.get("name", "?")), "scenario file": str(meta.get("scenario_file", "?")),
                  "xrootd server": str(software.get("xrootd-server", "?")),
                  "xrootd python": str(software.get("xrootd-python", "?")),
                  "harness": str(software.get("xcache-harness", "?")), "backend": str(meta.get("backend", "?")),
                  "host": str(meta.get("host", {}).get("hostname", "?"))})
    found.update(_flatten("workload", scenario.get("workload", {})))
    found.update(_flatten("dataset", scenario.get("dataset", {})))
    found["phases"] = ", ".join(p.get("name") or p.get("kind", "?") for p in scenario.get("phases", []))
    return found


def differing(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str]]:
    """(setting, value in a, value in b) for every setting that differs or exists in only one run."""
    return [(key, a.get(key, "-"), b.get(key, "-")) for key in dict.fromkeys([*a, *b]) if a.get(key) != b.get(key)]


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flatten(f"{prefix}.{key}", item).items()}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return {k: v for i, item in enumerate(value) for k, v in _flatten(f"{prefix}[{i}]", item).items()}
    return {prefix: _text(prefix.rsplit(".", 1)[-1], value)}


def _text(key: str, value: Any) -> str:
    if key in SIZE_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return _size(value)
    return str(value)


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} B"
