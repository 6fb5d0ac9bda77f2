"""What became of a fault case: the outcome of its reads, the extra checks, and the verdict (pure).

* ``wrong-data``: a read returned bytes that differ from what was staged (the worst: a cache lying);
* ``hung``: a read got no answer within its bound (a request timeout, or the harness' own deadline);
* ``failed-cleanly``: a read ended with an error from the server, within its bound;
* ``recovered``: every read returned every byte, verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.faults.spec import Outcome

# The first matching outcome wins: wrong data hides nothing else, a hang hides an error.
SEVERITY: tuple[Outcome, ...] = ("wrong-data", "hung", "failed-cleanly", "recovered")


@dataclass(frozen=True)
class ReadResult:
    """One read of one file by one reader; ``None`` in place of it means the reader never came back."""

    label: str
    bytes_ok: int
    seconds: float
    error: str | None = None
    wrong_at: int | None = None  # offset of the first byte that differs from the staged content
    expired: bool = False  # a request got no answer within the request timeout

    @property
    def outcome(self) -> Outcome:
        if self.wrong_at is not None:
            return "wrong-data"
        if self.expired:
            return "hung"
        return "failed-cleanly" if self.error else "recovered"

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "outcome": self.outcome, "bytes_ok": self.bytes_ok,
                "seconds": round(self.seconds, 3), "error": self.error, "wrong_at": self.wrong_at}


def classify(reads: Iterable[ReadResult | None]) -> Outcome:
    """The case's outcome: the most severe outcome among its reads (abandoned reads are hung)."""
    found = {"hung" if r is None else r.outcome for r in reads}
    return next((o for o in SEVERITY if o in found), "recovered")


@dataclass(frozen=True)
class CaseVerdict:
    """Outcome against expectation, plus the case's own checks (e.g. origin ratio, purge seen)."""

    outcome: Outcome
    expect: Outcome
    checks: Mapping[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == self.expect and all(self.checks.values())

    @property
    def failed_checks(self) -> list[str]:
        return [name for name, good in self.checks.items() if not good]
