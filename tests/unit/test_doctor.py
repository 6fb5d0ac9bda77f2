from __future__ import annotations

import pytest

from harness.cli import main


def test_images_build_rejects_unknown_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["images", "build", "--xrootd", "9.9"])
    assert info.value.code == 2 and "9.9" in capsys.readouterr().err
