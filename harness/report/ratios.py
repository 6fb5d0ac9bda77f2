"""Ratios between phases, per protocol. A ratio whose phases did not run is left out, never guessed.

* warm/remote = cache-warm MB/s ÷ direct-remote MB/s (``direct`` stands in when there is no direct-remote):
  what the cache gains over reading across the WAN; > 1 means the cache helps.
* warm/cold = cache-warm MB/s ÷ cache-cold MB/s.
* cache overhead = direct-near MB/s ÷ cache-warm MB/s - 1: how much slower a warm cache is than reading an
  origin next to the client (0.3 = 30 % overhead; negative = the cache is faster). XCache developers'
  target is < 30 % (XRootD issue 2282).

When a kind ran in several phases of one protocol, the first one counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.report.model import Phase


@dataclass(frozen=True)
class Ratio:
    name: str  # warm/remote | warm/cold | cache overhead
    protocol: str
    value: float
    numerator: str  # phase names, so a reader sees which phases were compared
    denominator: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


DEFINITIONS = (  # name, numerator kinds, denominator kinds (first present wins), offset
    ("warm/remote", ("cache-warm",), ("direct-remote", "direct"), 0.0),
    ("warm/cold", ("cache-warm",), ("cache-cold",), 0.0),
    ("cache overhead", ("direct-near",), ("cache-warm",), -1.0),
)


def ratios(phases: list[Phase]) -> list[Ratio]:
    """Every ratio that the phases allow, per protocol, in a fixed order."""
    found: list[Ratio] = []
    for protocol in dict.fromkeys(p.protocol for p in phases):
        same = [p for p in phases if p.protocol == protocol]
        for name, top_kinds, bottom_kinds, offset in DEFINITIONS:
            top, bottom = _first(same, top_kinds), _first(same, bottom_kinds)
            if top and bottom and bottom.stats.mb_per_s > 0 and top.stats.mb_per_s > 0:
                value = top.stats.mb_per_s / bottom.stats.mb_per_s + offset
                found.append(Ratio(name, protocol, value, top.name, bottom.name))
    return found


def _first(phases: list[Phase], kinds: tuple[str, ...]) -> Phase | None:
    for kind in kinds:
        for phase in phases:
            if phase.kind == kind:
                return phase
    return None


def format_ratio(ratio: Ratio) -> str:
    return f"{ratio.value:+.0%}" if ratio.name == "cache overhead" else f"{ratio.value:.2f}x"
