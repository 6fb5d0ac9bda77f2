"""Where each server of a multi-site topology lives and how the others reach it (pure).

A container backend gives every site its own network. A server is reached from another
site either through the emulated link between the two sites (a relay holding the server's
name as a network alias on the far side, so the reach is transparent by name) or, when no
link joins them, by attaching the server to that site's network too (an unshaped path).

>>> from harness.spec import CacheSpec, ClientSpec, LinkSpec, OriginSpec, SiteSpec, TopologySpec
>>> spec = TopologySpec(sites=(SiteSpec(name="near"), SiteSpec(name="far")),
...     origins=(OriginSpec(name="origin", site="far"),),
...     caches=(CacheSpec(name="xcache", site="near", origin="origin"),),
...     clients=(ClientSpec(name="client", site="near"),),
...     links=(LinkSpec(a="near", b="far", rtt_ms=30, rate_mbit=100),))
>>> plan = plan_sites(spec)
>>> plan.ports, plan.relays[0].aliases
({'origin': 1094, 'xcache': 1095}, {'near': ('origin',)})
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import LinkSpec, TopologySpec

FIRST_PORT = 1094


@dataclass(frozen=True)
class RelayPlan:
    """One relay per link: the names it stands in for on each site's network, and its forwards.

    ``forwards`` maps a listen port to the server behind it. Every server of a run has its
    own port, so one relay (one shared rate, like a real link) serves all of them.
    """

    name: str
    link: LinkSpec
    aliases: dict[str, tuple[str, ...]]  # site -> server names the relay answers for there
    forwards: tuple[tuple[int, str], ...]

    @property
    def sites(self) -> tuple[str, str]:
        return self.link.a, self.link.b


@dataclass(frozen=True)
class SitePlan:
    """Ports, sites and networks of every server; the relays of the links."""

    ports: dict[str, int]
    sites: dict[str, str]  # server -> its own site
    networks: dict[str, tuple[str, ...]]  # server -> sites whose networks it joins, its own first
    relays: tuple[RelayPlan, ...]
    client_site: str
    all_sites: tuple[str, ...]

    def relay_for(self, server: str, site: str) -> RelayPlan | None:
        """The relay that answers for ``server`` on ``site``'s network, if any."""
        return next((r for r in self.relays if server in r.aliases.get(site, ())), None)

    def client_route(self, server: str) -> tuple[str, RelayPlan | None]:
        """(network site, relay or None) the harness, standing at the client site, uses to reach ``server``."""
        relay = self.relay_for(server, self.client_site)
        if relay is not None:
            return self.client_site, relay
        joined = self.networks[server]
        return (self.client_site if self.client_site in joined else joined[0]), None


def plan_sites(spec: TopologySpec) -> SitePlan:
    """Decide networks, aliases and relays for ``spec`` (origins first, then caches)."""
    servers = [(o.name, o.site) for o in spec.origins] + [(c.name, c.site) for c in spec.caches]
    ports = {name: FIRST_PORT + i for i, (name, _) in enumerate(servers)}
    sites = dict(servers)
    client_site = spec.clients[0].site if spec.clients else spec.origins[0].site
    networks: dict[str, list[str]] = {name: [site] for name, site in servers}
    aliases: dict[int, dict[str, list[str]]] = {i: {} for i in range(len(spec.links))}
    for name, site in servers:
        for other in _consumer_sites(spec, name, client_site):
            if other == site or other in networks[name]:
                continue
            index = _link_index(spec.links, site, other)
            if index is None:
                networks[name].append(other)  # no link: joined directly, unshaped
            elif name not in aliases[index].setdefault(other, []):
                aliases[index][other].append(name)
    relays = tuple(
        RelayPlan(
            name=f"link-{link.a}-{link.b}",
            link=link,
            aliases={s: tuple(n) for s, n in aliases[i].items()},
            forwards=tuple(sorted((ports[n], n) for names in aliases[i].values() for n in names)),
        )
        for i, link in enumerate(spec.links)
    )
    return SitePlan(ports, sites, {n: tuple(s) for n, s in networks.items()}, relays, client_site,
                    tuple(s.name for s in spec.sites))


def _consumer_sites(spec: TopologySpec, server: str, client_site: str) -> list[str]:
    """Sites whose services connect to ``server``: its caches' sites and the client's."""
    return [c.site for c in spec.caches if c.origin == server] + [client_site]


def _link_index(links: tuple[LinkSpec, ...], a: str, b: str) -> int | None:
    return next((i for i, link in enumerate(links) if {link.a, link.b} == {a, b}), None)
