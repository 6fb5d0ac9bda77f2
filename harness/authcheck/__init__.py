"""``auth-check``: run an auth matrix against a real origin and XCache and judge every case.

``matrix`` (the YAML model), ``outcome`` (probe result -> allow/deny/auth-fail, verdicts),
``probe`` (the per-case client subprocess), ``creds`` (PKI, issuer, tokens), ``servers``
(auth configs for the topology), ``runner`` (the run), ``junit`` (JUnit XML).
"""
