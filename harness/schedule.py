"""Which phase runs when, against which server, on which names (pure).

A scenario's phases expand into one run per (repetition, phase, protocol); cold phases get
fresh names when their cache has already seen the current ones, so cold data never needs an
emptied cache (and works against a production cache, where nobody may empty it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.spec import PhaseSpec, ProtocolName, TopologySpec
from harness.truth.verdict import Expectation

EXPECT: dict[str, Expectation] = {"direct": "direct", "direct-remote": "direct", "direct-near": "direct",
                                  "cache-cold": "miss", "cache-warm": "hit", "partial-warm": "partial"}
EXTERNAL_ORIGIN, EXTERNAL_CACHE = "origin", "cache"


@dataclass(frozen=True)
class PhaseRun:
    spec: PhaseSpec
    protocol: ProtocolName
    repetition: int
    label: str

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def expectation(self) -> Expectation:
        return EXPECT[self.spec.kind]


def expand(phases: tuple[PhaseSpec, ...], repetitions: int) -> list[PhaseRun]:
    """Repetitions outermost, then protocols, then phases: each protocol tells the whole
    cold → warm → partial story on its own names, so one protocol's reads never warm the other's."""
    protocols = list(dict.fromkeys(p for phase in phases for p in phase.protocols))
    runs = []
    for rep in range(repetitions):
        for protocol in protocols:
            for phase in (p for p in phases if protocol in p.protocols):
                label = phase.label + ("" if protocol == protocols[0] else f"-{protocol}")
                runs.append(PhaseRun(phase, protocol, rep, label + (f"-r{rep + 1}" if rep else "")))
    return runs


def server_for(phase: PhaseSpec, topology: TopologySpec) -> str:
    """The server a phase reads from: ``via``, else the cache, else the near or remote origin."""
    if topology.external is not None:
        return EXTERNAL_ORIGIN if phase.direct else EXTERNAL_CACHE
    if phase.via is not None:
        return phase.via
    if not phase.direct:
        return topology.caches[0].name
    client_site = topology.clients[0].site if topology.clients else "local"
    near = [o.name for o in topology.origins if o.site == client_site]
    far = [o.name for o in topology.origins if o.site != client_site]
    preferred = near if phase.kind == "direct-near" else far if phase.kind == "direct-remote" else []
    return (preferred or [o.name for o in topology.origins])[0]


def origin_of(server: str, topology: TopologySpec) -> str:
    """The origin whose data a server serves (itself, or a cache's origin)."""
    if topology.external is not None:
        return EXTERNAL_ORIGIN
    return next((c.origin for c in topology.caches if c.name == server), server)


@dataclass
class Generations:
    """Name generations per cache: 0 is the dataset's own names, n > 0 lives under ``/fresh-<n>``."""

    current: dict[str, int] = field(default_factory=dict)
    touched: set[tuple[str, int]] = field(default_factory=set)
    issued: int = 0

    def for_phase(self, server: str, kind: str) -> tuple[int, bool]:
        """(generation to read, whether it must be staged first) for a phase through ``server``."""
        if kind in EXPECT and EXPECT[kind] == "direct":
            return 0, False
        generation, fresh = self.current.get(server, 0), False
        if kind == "cache-cold" and (server, generation) in self.touched:
            self.issued += 1
            generation, fresh = self.issued, True
        self.current[server] = generation
        self.touched.add((server, generation))
        return generation, fresh


def prefix(generation: int) -> str:
    return f"/fresh-{generation}" if generation else ""
