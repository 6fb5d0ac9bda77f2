"""The one exception tree of xcache-harness.

Every error the harness raises on purpose is a ``HarnessError``; the CLI maps them to
exit codes in one place (``cli.py``), so no other module prints or exits.

* HarnessError
  + UserError                 bad input the user must fix: exit 2, one line, no traceback
    - SpecError               a scenario, topology or matrix file is invalid (file, line, field)
  + EnvironmentMissing        this host lacks something (xrootd binaries, Docker, an image): exit 3
  + TopologyError             services could not be brought up or kept up
    - ServiceStartError       a server process/container failed to start (its log is attached)
    - ServiceNotReady         a server did not become ready in time
  + AuthError                 credentials are missing, expired or rejected
  + ReadError                 a read failed (the endpoint is named in the message)
    - ChecksumMismatch        bytes read differ from the staged content
  + CheckFailed               a check ran and its expectation was not met: exit 1
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every error raised on purpose by the harness."""

    exit_code = 1


class UserError(HarnessError):
    """The user must fix something (input file, argument): reported without a traceback."""

    exit_code = 2


class SpecError(UserError):
    """An input file is invalid; the message names file, line and field."""

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {problem}")
        self.path, self.line, self.field, self.problem = path, line, field, problem


class EnvironmentMissing(HarnessError):
    """The host lacks a binary, engine or image the requested work needs."""

    exit_code = 3


class TopologyError(HarnessError):
    """Services could not be brought up or kept up."""


class ServiceStartError(TopologyError):
    """A server failed to start; its log tail and rendered config are attached as notes."""


class ServiceNotReady(TopologyError):
    """A server did not report readiness within its timeout."""


class AuthError(HarnessError):
    """Credentials are missing, expired or rejected."""


class ReadError(HarnessError):
    """A read failed; the message names the endpoint and the server's reason."""


class ChecksumMismatch(ReadError):
    """Bytes read differ from the staged content: the worst outcome a cache can have."""


class CheckFailed(HarnessError):
    """A check ran and did not meet its expectation (auth mismatch, threshold missed)."""

    exit_code = 1
