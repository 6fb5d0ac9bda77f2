"""Experiment profiles as data: ``<name>.yaml`` is a partial scenario (dataset, workload, scale)
that a scenario names with ``profile:`` and overrides key by key (``harness.spec.load_profile``).
"""
