"""Render XRootD configuration text from specs. Pure functions: no I/O, golden-file tested."""

from harness.xrdconf.render import CacheConfig, Monitoring, OriginConfig, ServerPaths, render_cache, render_origin

__all__ = ["CacheConfig", "Monitoring", "OriginConfig", "ServerPaths", "render_cache", "render_origin"]
