"""Credentials for auth tests: a per-run grid PKI (:mod:`.pki`) and a WLCG token issuer (:mod:`.tokens`).

Both are file-only (plus one small HTTPS discovery server for the online-issuer case) and never
print credentials. What was verified against XRootD 5.5.3 is in ``docs/auth-verified.md``.
"""

from __future__ import annotations

from harness.auth.pki import (
    SYSTEM_CA_BUNDLE,
    HostCreds,
    HostSpec,
    Pki,
    PkiSpec,
    ProxyVariant,
    UserCreds,
    UserSpec,
    VomsServerSpec,
    chown_paths,
    dn_slash,
    make_proxy,
    subject_hash,
    write_pki,
)
from harness.auth.tokens import (
    KEYCACHE_RELPATH,
    WLCG_ANY_AUDIENCE,
    IssuerServer,
    Signing,
    TokenIssuer,
    TokenSpec,
    negative_variants,
    seed_key_cache,
    write_token,
)

__all__ = [
    "KEYCACHE_RELPATH",
    "SYSTEM_CA_BUNDLE",
    "WLCG_ANY_AUDIENCE",
    "HostCreds",
    "HostSpec",
    "IssuerServer",
    "Pki",
    "PkiSpec",
    "ProxyVariant",
    "Signing",
    "TokenIssuer",
    "TokenSpec",
    "UserCreds",
    "UserSpec",
    "VomsServerSpec",
    "chown_paths",
    "dn_slash",
    "make_proxy",
    "negative_variants",
    "seed_key_cache",
    "subject_hash",
    "write_pki",
    "write_token",
]
