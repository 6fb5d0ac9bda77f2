"""Keep secrets out of what the harness writes: JWTs, authz CGI values, PEM blocks.

The 5.5.3 servers log no token at the trace levels the harness configures (verified), but a
results directory is shared widely, so server logs and evidence pass through here anyway.
"""

from __future__ import annotations

import re

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_AUTHZ = re.compile(r"(authz=|Bearer(?:%20|\s))[^&\s\"']+", re.IGNORECASE)
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    text = _PEM.sub(REDACTED, text)
    text = _AUTHZ.sub(lambda m: m.group(1) + REDACTED, text)
    return _JWT.sub(REDACTED, text)
