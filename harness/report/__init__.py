"""Reports built offline from a run directory: never imports backends or the runner."""
