"""Events the runner fires, declared in one place; the CLI listens to show progress.

The runner prints nothing: anything a person sees comes from a listener of these events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from harness.measure import OpRecord, PhaseStats

T = TypeVar("T")


class EventHook(Generic[T]):
    """A list of listeners called in order with one event object."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def add(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def fire(self, event: T) -> None:
        for listener in self._listeners:
            listener(event)


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    path: str
    scenario: str


@dataclass(frozen=True)
class Step:
    """A setup or teardown step (starting servers, staging data), for progress display."""

    text: str


@dataclass(frozen=True)
class PhaseStarted:
    phase: str
    kind: str
    endpoint: str
    files: int
    protocol: str = "root"
    pattern: str = "full"
    clients: int = 1


@dataclass(frozen=True)
class OpDone:
    record: OpRecord


@dataclass(frozen=True)
class PhaseDone:
    phase: str
    stats: PhaseStats
    truth: dict[str, object]


@dataclass(frozen=True)
class RunStopped:
    run_id: str
    path: str
    status: str


@dataclass
class Events:
    """All hooks of a run.

    ``run_started``: results directory exists, nothing started yet.
    ``step``: a setup step begins. ``phase_started`` / ``op_done`` / ``phase_done``: per phase
    and operation. ``run_stopped``: always fired, with status complete|failed|interrupted.
    """

    run_started: EventHook[RunStarted] = field(default_factory=EventHook)
    step: EventHook[Step] = field(default_factory=EventHook)
    phase_started: EventHook[PhaseStarted] = field(default_factory=EventHook)
    op_done: EventHook[OpDone] = field(default_factory=EventHook)
    phase_done: EventHook[PhaseDone] = field(default_factory=EventHook)
    run_stopped: EventHook[RunStopped] = field(default_factory=EventHook)
