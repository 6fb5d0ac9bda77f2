"""Link emulation between sites (relay, kernel methods) and its measurement probe.

Names are imported lazily: ``python3 -m harness.links.relay`` runs in a minimal container
that holds only ``shaping.py`` and ``relay.py`` (standard library only), so importing this
package must not pull in ``probe``/``methods`` and, through them, the rest of the harness.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.links.methods import (
        METHODS,
        LinkSpec,
        RelayProcess,
        RelayReady,
        available_methods,
        choose_method,
        parse_ready_line,
    )
    from harness.links.probe import LinkMeasurement, measure_link
    from harness.links.relay import Forward, Relay, RelayConfig
    from harness.links.shaping import DelayLine, TokenBucket

_WHERE = {
    "METHODS": "methods",
    "LinkSpec": "methods",
    "RelayProcess": "methods",
    "RelayReady": "methods",
    "available_methods": "methods",
    "choose_method": "methods",
    "parse_ready_line": "methods",
    "LinkMeasurement": "probe",
    "measure_link": "probe",
    "Forward": "relay",
    "Relay": "relay",
    "RelayConfig": "relay",
    "DelayLine": "shaping",
    "TokenBucket": "shaping",
}

__all__ = [
    "METHODS",
    "DelayLine",
    "Forward",
    "LinkMeasurement",
    "LinkSpec",
    "Relay",
    "RelayConfig",
    "RelayProcess",
    "RelayReady",
    "TokenBucket",
    "available_methods",
    "choose_method",
    "measure_link",
    "parse_ready_line",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
