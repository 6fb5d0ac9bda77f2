from __future__ import annotations

from harness.dataset import DataFile
from harness.measure import OpRecord
from harness.spec import PatternSpec, WorkloadSpec
from harness.workers import Clients, PhaseWork, Staged

FILES = [Staged(DataFile(f"/f{i}", (i + 1) * 1000, "raw", ("o",)), 1) for i in range(6)]


def work(label: str, repetition: int = 0) -> PhaseWork:
    return PhaseWork(label, "root", "root://h:1", PatternSpec(kind="full"), repetition, "lapp")


def clients(**workload: object) -> Clients:
    def ignore(_record: OpRecord) -> None:
        return None

    return Clients(WorkloadSpec(**workload), 1, 5, ignore)


def test_each_file_once_per_phase_across_clients() -> None:
    picks = clients(clients=4)._assign(work("cold"), FILES)
    assert sorted(i for p in picks for i in p) == list(range(6)) and len(picks) == 4


def test_zipf_picks_are_shared_by_the_phases_of_a_repetition() -> None:
    many = clients(clients=3, popularity="zipf", reads_per_client=20)
    cold, warm = many._assign(work("cold"), FILES), many._assign(work("warm"), FILES)
    assert cold == warm and all(len(p) == 20 for p in cold)
    assert many._assign(work("cold", 1), FILES) != cold
    counts = [sum(p.count(i) for p in cold) for i in range(6)]
    assert counts[0] > counts[5]  # the smallest file is the most popular
