"""Write a YAML text to a file and load it with one of the edge loaders; catch the SpecError it raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from harness.errors import SpecError

T = TypeVar("T")


def load_text(loader: Callable[[Path], T], tmp_path: Path, text: str, name: str = "s.yaml") -> T:
    path = tmp_path / name
    path.write_text(text)
    return loader(path)


def spec_error(loader: Callable[[Path], object], tmp_path: Path, text: str, name: str = "s.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        load_text(loader, tmp_path, text, name)
    return info.value
