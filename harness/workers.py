"""Many clients in one phase: one thread per client, each with its own XRootD channel.

XrdCl releases the GIL while it waits, so threads are real concurrency here. Clients start
spread over the ramp-up time; the first failed read stops the others and is raised once all
have returned (each read is bounded by the request timeout). A client whose credential is a
proxy runs its reads in a process of its own (``harness.clientproc``): XrdCl takes the GSI
proxy from the environment once per process. Token clients stay threads: the token rides on
each URL (root://) or request (https).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.auth.clientenv import CLIENT_PATH, isolated_env
from harness.clientproc import Job, PhaseWork, Read, Staged, plan_of, read_files
from harness.credentials import NONE, ClientCredential
from harness.errors import ReadError
from harness.measure import OpRecord
from harness.patterns import share, zipf_picks
from harness.readers import make_reader
from harness.spec import WorkloadSpec

__all__ = ["Clients", "PhaseWork", "Read", "Staged"]
PROCESS_GRACE_S = 30


@dataclass
class Clients:
    workload: WorkloadSpec
    seed: int
    timeout_s: int
    on_record: Callable[[OpRecord], None]
    ca_path: str | None = None
    connection_window_s: int = 3
    process_env: Mapping[str, str] = field(default_factory=dict)  # e.g. X509_CERT_DIR for proxy clients
    _stop: threading.Event = field(default_factory=threading.Event)
    _processes: set[subprocess.Popen[str]] = field(default_factory=set)

    def read(self, work: PhaseWork, files: list[Staged], credentials: Sequence[ClientCredential] = (),
             raise_errors: bool = True) -> list[Read]:
        """Run the phase's clients to completion (client k with ``credentials[k]``, default none);
        raise ReadError with the first failure unless ``raise_errors`` is False."""
        self._stop.clear()
        results: list[list[Read]] = [[] for _ in range(self.workload.clients)]
        creds = [credentials[k] if k < len(credentials) else NONE for k in range(self.workload.clients)]
        threads = [threading.Thread(target=self._client, args=(work, k, [files[i] for i in picks], results[k],
                                                                creds[k]), name=f"client-{k}", daemon=True)
                   for k, picks in enumerate(self._assign(work, files))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:  # interrupted: no client process may outlive the run
            self._stop.set()
            self._kill_processes()
            raise
        reads = sorted((r for rs in results for r in rs), key=lambda r: r[0].start)
        errors = [record.error for record, _ in reads if record.error is not None]
        if errors and raise_errors:
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

    def _client(self, work: PhaseWork, k: int, files: list[Staged], out: list[Read],
                credential: ClientCredential) -> None:
        w = self.workload
        if w.ramp_up_s and self._stop.wait(w.ramp_up_s * k / w.clients):
            return  # another client failed before this one's turn came
        name = f"c{k}"
        # One channel per client: XrdCl shares a login between URLs with the same user@host.
        base = work.endpoint.replace("root://", f"root://{name}@", 1) if w.clients > 1 else work.endpoint
        reads: Iterable[Read]
        if credential.needs_process:
            reads = self._in_process(work, files, name, base, credential)
        else:
            reader = make_reader(work.protocol, w.request_size, w.in_flight, self.timeout_s, self.ca_path,
                                 token=credential.token,
                                 token_file=str(credential.token_file) if credential.token_file else None)
            reads = read_files(reader, work, files, self.seed, name, base, self._stop)
        for record, plan in reads:
            out.append((record, plan))
            self.on_record(record)
            if record.error is not None:
                self._stop.set()

    def _in_process(self, work: PhaseWork, files: list[Staged], name: str, base: str,
                    credential: ClientCredential) -> list[Read]:
        """The client's reads in ``python -m harness.clientproc``, killed on timeout or interrupt."""
        w = self.workload
        job = Job(work, files, self.seed, name, base, w.request_size, w.in_flight, self.timeout_s,
                  self.connection_window_s, self.ca_path)
        with tempfile.TemporaryDirectory(prefix="xh-client-") as home:
            env = isolated_env(Path(home), {"BEARER_TOKEN_FILE": f"{home}/no-token", **self.process_env,
                                            "X509_USER_PROXY": str(credential.proxy), "XrdSecPROTOCOL": "gsi"},
                               path=os.environ.get("PATH", CLIENT_PATH), python=True)
            with subprocess.Popen([sys.executable, "-m", "harness.clientproc"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:
                self._processes.add(proc)
                timeout = self._process_timeout(len(files))
                try:
                    out, err = proc.communicate(job.to_json(), timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()[0], f"no end within {timeout:.0f} s"
                except BaseException:  # interrupted: the client process must not outlive the run
                    proc.kill()
                    raise
                finally:
                    self._processes.discard(proc)
        records = [OpRecord(**_json_line(line)) for line in out.splitlines() if line.strip()]
        if proc.returncode != 0 or (len(records) < len(files) and not any(r.error for r in records)):
            missing = files[min(len(records), len(files) - 1)].path
            records.append(_failed(work, name, missing, f"client process exited {proc.returncode}: {_tail(err)}"))
        return [(r, plan_of(work, f, self.seed)) for r, f in zip(records, files, strict=False)]

    def _kill_processes(self) -> None:
        for proc in list(self._processes):
            proc.kill()

    def _process_timeout(self, files: int) -> float:
        """Each read is bounded by the request timeout (three per answer); this bounds the process."""
        return PROCESS_GRACE_S + self.timeout_s * 3 * (files + 1)


def _json_line(line: str) -> dict[str, Any]:
    data = json.loads(line)
    assert isinstance(data, dict)
    return data


def _failed(work: PhaseWork, name: str, path: str, error: str) -> OpRecord:
    """The read a client process could not report (it died or timed out before answering)."""
    return OpRecord(work.label, name, work.endpoint, path, work.pattern.kind or "full", time.time(), 0.0, None, 0.0,
                    0, 0, False, error=error, site=work.site, reader="xroot" if work.protocol == "root" else "https",
                    repetition=work.repetition)


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
