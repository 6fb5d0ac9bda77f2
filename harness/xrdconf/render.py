"""Origin and XCache configuration for XRootD 5.5/5.8, rendered from frozen inputs.

Each directive carries a comment saying why it is there; the traps behind them are in
../shared/docs/xrootd-field-notes.md (e.g. pfc.ram below 1g fails startup).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import CacheSettings
from harness.units import xrd_size


@dataclass(frozen=True)
class ServerPaths:
    """Where one server keeps its files, as seen from inside its own host or container."""

    port: int
    data_dir: str
    admin_dir: str


@dataclass(frozen=True)
class Monitoring:
    """UDP destinations of the harness' listeners, as reachable from the server."""

    summary: str | None = None  # host:port for xrd.report (origin bytes sent)
    gstream: str | None = None  # host:port for the cache's pfc g-stream


@dataclass(frozen=True)
class TlsPaths:
    """A host certificate and the CA dir that verifies it, as the server sees them."""

    cert: str
    key: str  # 0600, owned by the server user
    certdir: str  # hashed CA dir (<hash>.0)


@dataclass(frozen=True)
class OriginConfig:
    paths: ServerPaths
    monitoring: Monitoring = Monitoring()
    http: bool = True
    tls: TlsPaths | None = None


@dataclass(frozen=True)
class CacheConfig:
    paths: ServerPaths
    origin: str  # host:port of the origin, as the cache reaches it
    settings: CacheSettings
    monitoring: Monitoring = Monitoring()
    http: bool = True
    tls: TlsPaths | None = None


def render_origin(cfg: OriginConfig) -> str:
    """Config text for a plain data server exporting its whole namespace."""
    lines = _common(cfg.paths, cfg.http) + (render_tls(cfg.tls) if cfg.tls else [])
    lines += [f"oss.localroot {cfg.paths.data_dir}"]
    if cfg.monitoring.summary:
        lines += [
            "# summary monitoring: <stats id=\"link\"><out> is the origin's bytes sent, the ground truth",
            f"xrd.report {cfg.monitoring.summary} every 1s all",
        ]
    return "\n".join(lines) + "\n"


def render_cache(cfg: CacheConfig) -> str:
    """Config text for an XCache (XrdPss proxy + XrdPfc file cache) in front of one origin."""
    s = cfg.settings
    lines = _common(cfg.paths, cfg.http) + (render_tls(cfg.tls) if cfg.tls else [])
    lines += [
        "ofs.osslib libXrdPss.so",
        "pss.cachelib libXrdPfc.so",
        f"pss.origin {cfg.origin}",
        "# bounded retries so a dead origin fails reads instead of stalling them for minutes",
        "pss.setopt ConnectionRetry 1",
        "pss.setopt ConnectTimeout 10",
        "pss.setopt RequestTimeout 30",
        "# A file closed while its blocks are still being written is detached later by a retry",
        "# loop (default every 30 s); its g-stream record and cinfo access wait for that: use the minimum.",
        "pss.ciosync 10 180",
        f"oss.localroot {cfg.paths.data_dir}",
        f"pfc.blocksize {xrd_size(s.blocksize)}",
        "# prefetch blocks count as hits in the cache's own accounting: recorded with every run",
        f"pfc.prefetch {s.prefetch}",
        f"pfc.ram {xrd_size(s.ram)}",
        f"pfc.diskusage {s.diskusage[0]:.2f} {s.diskusage[1]:.2f}",
        f"pfc.cschk {s.cschk}",
    ]
    if cfg.monitoring.gstream:
        lines += [
            "# g-stream: one JSON file_close record per detached file (b_hit, b_miss, remotes)",
            "xrootd.monitor all flush 1s fstat 1s lfn ops xfr 5 ident 5m dest fstat info user pfc "
            f"{cfg.monitoring.gstream}",
        ]
    lines += list(s.extra)
    return "\n".join(lines) + "\n"


def _common(paths: ServerPaths, http: bool) -> list[str]:
    lines = [
        "all.export /",
        f"xrd.port {paths.port}",
        f"all.adminpath {paths.admin_dir}",
        f"all.pidpath {paths.admin_dir}",
        "# no reverse DNS: containers and namespaces have no resolver for client addresses",
        "xrd.network nodnr",
    ]
    if http:
        lines += ["# HTTP on the same port as root://", f"xrd.protocol XrdHttp:{paths.port} libXrdHttp.so"]
    return lines


def render_tls(tls: TlsPaths) -> list[str]:
    """TLS on the server's one port: then it serves https:// and roots:// beside http:// and root://.

    Only transport: no security protocol is configured, so clients stay anonymous over TLS too.
    """
    return [
        "# TLS on the same port: https:// and roots:// beside http:// and root:// (anonymous clients)",
        f"xrd.tls {tls.cert} {tls.key}",
        "# without xrd.tlsca the TLS context fails to initialise",
        f"xrd.tlsca certdir {tls.certdir}",
    ]
