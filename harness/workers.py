"""Many clients in one phase: one thread per client, each with its own XRootD channel.

XrdCl releases the GIL while it waits, so threads are real concurrency here. Clients start
spread over the ramp-up time; the first failed read stops the others and is raised once all
have returned (each read is bounded by the request timeout).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from harness.dataset import DataFile
from harness.errors import ReadError
from harness.measure import OpRecord
from harness.patterns import plan_for, share, zipf_picks
from harness.plan import ReadPlan, ReadTarget
from harness.readers import make_reader
from harness.spec import PatternSpec, ProtocolName, WorkloadSpec

Read = tuple[OpRecord, ReadPlan]


@dataclass(frozen=True)
class Staged:
    """A file as staged: what to read and how to verify it."""

    file: DataFile
    adler32: int
    prefix: str = ""  # the fresh-names prefix it was staged under ("" for the dataset's own names)

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def size(self) -> int:
        return self.file.size


@dataclass(frozen=True)
class PhaseWork:
    """What every client of one phase needs to know."""

    label: str
    protocol: ProtocolName
    endpoint: str  # scheme://host:port
    pattern: PatternSpec
    repetition: int
    site: str
    tls_name: str | None = None  # https: the name the server's certificate carries (endpoint may be an address)


@dataclass
class Clients:
    workload: WorkloadSpec
    seed: int
    timeout_s: int
    on_record: Callable[[OpRecord], None]
    ca_path: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def read(self, work: PhaseWork, files: list[Staged]) -> list[Read]:
        """Run the phase's clients to completion; raise ReadError with the first failure."""
        self._stop.clear()
        results: list[list[Read]] = [[] for _ in range(self.workload.clients)]
        threads = [threading.Thread(target=self._client, args=(work, k, [files[i] for i in picks], results[k]),
                                    name=f"client-{k}", daemon=True)
                   for k, picks in enumerate(self._assign(work, files))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reads = sorted((r for rs in results for r in rs), key=lambda r: r[0].start)
        errors = [record.error for record, _ in reads if record.error is not None]
        if errors:
            raise ReadError(errors[0])
        return reads

    def _assign(self, work: PhaseWork, files: list[Staged]) -> list[list[int]]:
        w = self.workload
        if w.popularity == "each":
            return share(len(files), w.clients)
        # Seeded per repetition, not per phase: a warm phase reads what its cold phase read.
        rng = random.Random(f"{self.seed}:{work.repetition}")
        picks = w.reads_per_client or len(files)
        return [zipf_picks([f.file.size for f in files], picks, w.zipf_s, rng) for _ in range(w.clients)]

    def _client(self, work: PhaseWork, k: int, files: list[Staged], out: list[Read]) -> None:
        w = self.workload
        if w.ramp_up_s and self._stop.wait(w.ramp_up_s * k / w.clients):
            return  # another client failed before this one's turn came
        reader = make_reader(work.protocol, w.request_size, w.in_flight, self.timeout_s, self.ca_path)
        name = f"c{k}"
        base = work.endpoint.replace("root://", f"root://{name}@", 1) if w.clients > 1 else work.endpoint
        for staged in files:
            if self._stop.is_set():
                return
            data = staged.file
            # seeded by the dataset's own name: fresh copies and both protocols read the same ranges
            plan = plan_for(work.pattern, data.size, self.seed, data.path.removeprefix(staged.prefix))
            target = ReadTarget(base, data.path, data.size, staged.adler32, data.content(self.seed),
                                tls_name=work.tls_name)
            record = replace(reader.read(target, plan, work.label, name), site=work.site, pattern=plan.pattern,
                             repetition=work.repetition, url=work.endpoint)
            out.append((record, plan))
            self.on_record(record)
            if record.error is not None:
                self._stop.set()
