"""Run settings, built once at the CLI edge from defaults < environment (HARNESS_*) < flags.

No module reads ``os.environ`` at import time; everything below the CLI receives a Settings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where runs write and how long the harness waits; override with HARNESS_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="HARNESS_", frozen=True)

    results_dir: Path = Path("results")
    runtime_dir: Path = Field(Path("/tmp/xcache-harness"), description="server dirs: data, cache, logs")
    start_timeout_s: float = Field(30.0, gt=0, description="bound on a server becoming ready (log line, then a ping)")
    request_timeout_s: int = Field(10, gt=0, description="XRD_REQUESTTIMEOUT for the harness' readers")
    connection_window_s: int = Field(3, gt=0)
    truth_timeout_s: float = Field(12.0, gt=0, description="wait for monitoring records after a phase "
                                   "(a cache may defer a file's detach by 10 s: pss.ciosync)")
    server_user: str = "xrootd"
    keep_server_dirs: bool = Field(False, description="keep data, cache and keys of finished runs (debugging); "
                                   "configs and logs are in the results either way")
