"""``doctor``: what this host can do, checked rather than assumed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

from harness.errors import HarnessError
from harness.images import XROOTD_SUITES, missing_images
from harness.links.methods import available_methods, choose_method
from harness.machine import local_xrootd_version

Finding = tuple[str, bool, str]  # what, usable, detail


def findings() -> Iterator[Finding]:
    """One line per facility: local xrootd, Docker engine, images per version, link shaping."""
    version = local_xrootd_version()
    yield "local backend (xrootd)", shutil.which("xrootd") is not None, version
    yield "xrdpfc_print (cinfo truth)", shutil.which("xrdpfc_print") is not None, "reads .cinfo files"
    yield "voms-proxy-fake (VOMS ACs)", shutil.which("voms-proxy-fake") is not None, "auth-check"
    yield from _images()
    methods = available_methods()
    yield "link shaping", bool(methods), f"available {', '.join(methods)}; used: {choose_method(methods)}"


def _images() -> Iterator[Finding]:
    for xrootd, suite in XROOTD_SUITES.items():
        try:
            missing = missing_images(xrootd)
        except HarnessError as exc:  # no engine, no mmdebstrap: say so and go on
            yield f"docker images {xrootd}", False, str(exc)
            return
        build = f"xcache-harness images build --xrootd {xrootd}"
        detail = "all built" if not missing else f"missing {', '.join(missing)}: {build}"
        yield f"docker images {xrootd} (Debian {suite})", not missing, detail
