"""The files of a dataset at a given scale: names, sizes, formats and where they live (pure).

Sizes are drawn once per file from a seeded log-normal, then scaled, so ``--scale ci`` and
``--scale full`` read the same names with the same shape of size distribution.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from harness.content import FileContent, Format
from harness.errors import UserError
from harness.spec import DatasetSpec, PatternSpec, ScaleSpec

ALIGN = 4096
MIN_CLUSTER = 8 * 1024**2  # a scaled cluster still spans several cache blocks


@dataclass(frozen=True)
class Scale:
    """``factor`` multiplies sizes; ``max_count`` caps each file set (CI keeps a few files)."""

    name: str
    factor: float = 1.0
    max_count: int | None = None
    min_size: int = 1024**2
    truth_wait_s: float | None = None  # ci: a shorter wait for the cache's own records

    def size(self, n: int) -> int:
        if self.factor == 1.0:
            return n
        return max(self.min_size, round(n * self.factor / ALIGN) * ALIGN)

    def count(self, n: int) -> int:
        return n if self.max_count is None else min(n, self.max_count)

    def pattern(self, spec: PatternSpec) -> PatternSpec:
        """Clusters shrink with files; chunks and headers keep their real size (they are the point)."""
        if self.factor == 1.0:
            return spec
        cluster = max(MIN_CLUSTER, round(spec.cluster_size * self.factor / ALIGN) * ALIGN)
        return spec.model_copy(update={"cluster_size": cluster})


def parse_scale(text: str | None, spec: ScaleSpec) -> Scale:
    """``ci``, ``full`` or a factor such as ``0.1``; raises UserError (exit 2) otherwise."""
    text = text or spec.default
    if text == "full":
        return Scale("full")
    if text == "ci":
        return Scale("ci", spec.ci_factor, spec.ci_max_count, spec.min_size, spec.ci_truth_wait_s)
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not 0 < factor <= 100:
        raise UserError(f"--scale: {text!r} is not ci, full or a factor in (0, 100]")
    return Scale(text, factor, None, spec.min_size)


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int
    format: Format
    origins: tuple[str, ...]

    def content(self, seed: int) -> FileContent:
        return FileContent(seed, self.path, self.size, self.format)

    def renamed(self, prefix: str) -> DataFile:
        """The same file under fresh names (cold data without emptying the cache)."""
        return DataFile(prefix + self.path, self.size, self.format, self.origins)

    def only_on(self, origin: str | None) -> DataFile:
        return self if origin is None else DataFile(self.path, self.size, self.format, (origin,))


def dataset_files(dataset: DatasetSpec, scale: Scale, default_origin: str) -> list[DataFile]:
    files: list[DataFile] = []
    for fileset in dataset.files:
        origins = fileset.origins or (default_origin,)
        for path in fileset.paths()[: scale.count(fileset.count)]:
            rng = random.Random(f"{dataset.seed}:{path}")
            size = fileset.size
            if fileset.spread > 0:
                size = round(rng.lognormvariate(math.log(size), fileset.spread))
            size = min(max(size, fileset.min_size or 1), fileset.max_size or size)
            files.append(DataFile(path, scale.size(size), fileset.format, origins))
    return files
