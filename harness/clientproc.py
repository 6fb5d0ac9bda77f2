"""One client's reads of one phase, in a thread of the harness or in a process of its own:
``python -m harness.clientproc`` reads a JSON job on stdin and writes one OpRecord per line.

Why a process: XrdCl reads the GSI proxy once per process (X509_USER_PROXY, at the gsi plugin's
first login), so clients with different proxies cannot share the harness' process. The job names
files and settings only; the proxy comes through the environment and never appears on the
command line or in the job.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from harness.dataset import DataFile
from harness.measure import OpRecord
from harness.patterns import plan_for
from harness.plan import ReadPlan, ReadTarget
from harness.readers import Reader, make_reader
from harness.spec import PatternSpec, ProtocolName

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


def read_files(reader: Reader, work: PhaseWork, files: list[Staged], seed: int, name: str, base: str,
               stop: threading.Event) -> Iterator[Read]:
    """Read ``files`` in order from ``base`` (the endpoint, maybe with a channel name); stop after an error."""
    for staged in files:
        if stop.is_set():
            return
        data = staged.file
        plan = plan_of(work, staged, seed)
        target = ReadTarget(base, data.path, data.size, staged.adler32, data.content(seed), tls_name=work.tls_name)
        record = replace(reader.read(target, plan, work.label, name), site=work.site, pattern=plan.pattern,
                         repetition=work.repetition, url=work.endpoint)
        yield record, plan
        if record.error is not None:
            return


def plan_of(work: PhaseWork, staged: Staged, seed: int) -> ReadPlan:
    """Seeded by the dataset's own name: fresh copies and both protocols read the same ranges."""
    return plan_for(work.pattern, staged.size, seed, staged.path.removeprefix(staged.prefix))


@dataclass(frozen=True)
class Job:
    """A subprocess client's work: everything but the credential."""

    work: PhaseWork
    files: list[Staged]
    seed: int
    name: str
    base: str
    request_size: int
    in_flight: int
    timeout_s: int
    connection_window_s: int
    ca_path: str | None

    def to_json(self) -> str:
        data = asdict(self)
        data["work"]["pattern"] = self.work.pattern.model_dump(mode="json")
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Job:
        data: dict[str, Any] = json.loads(text)
        work = data.pop("work")
        work = PhaseWork(**{**work, "pattern": PatternSpec.model_validate(work["pattern"])})
        files = [Staged(DataFile(**{**f["file"], "origins": tuple(f["file"]["origins"])}), f["adler32"], f["prefix"])
                 for f in data.pop("files")]
        return cls(work=work, files=files, **data)


def main() -> int:
    """Run the job on stdin; the proxy for https is X509_USER_PROXY, as XrdCl's for root://."""
    import os

    from harness.readers.xroot import configure_client

    job = Job.from_json(sys.stdin.read())
    configure_client(job.timeout_s, job.connection_window_s)
    proxy = os.environ.get("X509_USER_PROXY")
    reader = make_reader(job.work.protocol, job.request_size, job.in_flight, job.timeout_s, job.ca_path, cert=proxy)
    for record, _ in read_files(reader, job.work, job.files, job.seed, job.name, job.base, threading.Event()):
        sys.stdout.write(json.dumps(record.to_dict()) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the harness reports it
        sys.exit(130)
