from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.errors import ServiceNotReady, ServiceStartError
from harness.readiness import wait_log_ready


@dataclass
class Target:
    log: str
    running: bool = True

    def log_text(self) -> str:
        return self.log

    def is_running(self) -> bool:
        return self.running


def test_ready_on_the_completion_line() -> None:
    wait_log_ready(Target("...\n------ xrootd o@h:1 initialization completed.\n"), "o", 1)


def test_failed_start_names_the_reason() -> None:
    log = "Config error: invalid directive pfc.bogus\n------ xrootd o@h:1 initialization failed.\n"
    with pytest.raises(ServiceStartError, match=r"invalid directive pfc\.bogus"):
        wait_log_ready(Target(log), "o", 1)


def test_exited_process_fails_fast_without_waiting_for_the_timeout() -> None:
    with pytest.raises(ServiceStartError, match="no log output"):
        wait_log_ready(Target("", running=False), "o", 30)


def test_silence_times_out() -> None:
    with pytest.raises(ServiceNotReady, match="not ready after"):
        wait_log_ready(Target("starting"), "o", 0.1)
