"""The shipped matrix and one set of its credentials, shared by the tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.authcheck.creds import Credentials
from harness.authcheck.matrix import AuthMatrix, load_matrix

DEFAULT = Path(__file__).resolve().parents[3] / "scenarios" / "auth-matrix.yaml"


@pytest.fixture(scope="module")
def matrix() -> AuthMatrix:
    return load_matrix(DEFAULT)


@pytest.fixture(scope="module")
def creds(matrix: AuthMatrix, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return Credentials.create(matrix, tmp_path_factory.mktemp("run") / "creds", None)
