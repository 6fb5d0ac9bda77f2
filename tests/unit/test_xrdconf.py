"""Golden files: the exact config text servers get. Regenerate with UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from harness.spec import CacheSettings
from harness.xrdconf import CacheConfig, Monitoring, OriginConfig, ServerPaths, render_cache, render_origin
from harness.xrdconf.render import TlsPaths

GOLDEN = Path(__file__).parent / "golden"
ORIGIN = OriginConfig(ServerPaths(1094, "/srv/o/data", "/srv/o/adm"), Monitoring(summary="127.0.0.1:9931"))
CACHE = CacheConfig(ServerPaths(1095, "/srv/c/data", "/srv/c/adm"), "localhost:1094",
                    CacheSettings(blocksize=512 * 1024, prefetch=2, extra=("pfc.trace info",)),
                    Monitoring(gstream="127.0.0.1:9932"))
TLS = TlsPaths("/srv/pki/hosts/h/hostcert.pem", "/srv/pki/hosts/h/hostkey.pem", "/srv/pki/certificates")


@pytest.mark.parametrize(("name", "text"), [
    ("origin.cfg", render_origin(ORIGIN)), ("cache.cfg", render_cache(CACHE)),
    ("origin-tls.cfg", render_origin(replace(ORIGIN, tls=TLS))),
    ("cache-tls.cfg", render_cache(replace(CACHE, tls=TLS))),
])
def test_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_no_http_and_no_monitoring() -> None:
    text = render_origin(OriginConfig(ServerPaths(1, "/d", "/a"), http=False))
    assert "XrdHttp" not in text and "xrd.report" not in text
