"""xcache-harness: spin up XRootD origins and XCache proxies, read through them, measure."""

__version__ = "0.1.0"
