"""Image naming, recipes and apt-source parsing of harness.images; no Docker needed."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import images
from harness.errors import EnvironmentMissing, UserError
from harness.images import CONTAINERS_DIR, ROLES, XROOTD_SUITES, build_images, image_tag


@pytest.fixture
def recipes(tmp_path: Path) -> Path:
    """A private copy of containers/, safe to edit."""
    return Path(shutil.copytree(CONTAINERS_DIR, tmp_path / "containers"))


# --- versions and tags -------------------------------------------------------------------


def test_versions_map_to_the_suites_that_carry_them() -> None:
    assert XROOTD_SUITES == {"5.5.3": "bookworm", "5.8.1": "trixie"}


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"'5\.6\.0'.*5\.5\.3, 5\.8\.1"):
        image_tag("origin", "5.6.0")


def test_unknown_role_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="origin, cache, client, linkemu"):
        image_tag("xcache", "5.5.3")


@pytest.mark.parametrize("role", [*ROLES, "base"])
def test_tag_names_role_version_and_hash(role: str) -> None:
    assert re.fullmatch(rf"xcache-harness/{role}:5\.5\.3-[0-9a-f]{{12}}", image_tag(role, "5.5.3"))


def test_tag_is_stable_and_independent_of_the_checkout_path(recipes: Path) -> None:
    assert image_tag("origin", "5.5.3") == image_tag("origin", "5.5.3")
    assert image_tag("origin", "5.5.3", recipes) == image_tag("origin", "5.5.3")


def test_each_version_and_role_gets_its_own_tag() -> None:
    tags = {image_tag(role, v) for role in (*ROLES, "base") for v in XROOTD_SUITES}
    assert len(tags) == (len(ROLES) + 1) * len(XROOTD_SUITES)


def test_role_change_retags_only_that_role(recipes: Path) -> None:
    before = {role: image_tag(role, "5.5.3", recipes) for role in (*ROLES, "base")}
    with (recipes / "origin" / "Dockerfile").open("a") as dockerfile:
        dockerfile.write("# changed\n")
    after = {role: image_tag(role, "5.5.3", recipes) for role in (*ROLES, "base")}
    assert [role for role in before if before[role] != after[role]] == ["origin"]


def test_base_change_retags_every_image(recipes: Path) -> None:
    before = {role: image_tag(role, "5.8.1", recipes) for role in (*ROLES, "base")}
    (recipes / "base" / "packages.txt").write_text("xrootd-server\n")
    assert all(image_tag(role, "5.8.1", recipes) != tag for role, tag in before.items())


def test_moving_bytes_between_files_changes_the_hash(recipes: Path) -> None:
    before = image_tag("client", "5.5.3", recipes)
    packages = recipes / "client" / "packages.txt"
    dockerfile = recipes / "client" / "Dockerfile"
    text = packages.read_text()
    packages.write_text(text[:-1])
    dockerfile.write_text(text[-1] + dockerfile.read_text())
    assert image_tag("client", "5.5.3", recipes) != before


def test_editor_files_and_caches_do_not_retag(recipes: Path) -> None:
    before = image_tag("linkemu", "5.5.3", recipes)
    (recipes / "linkemu" / ".Dockerfile.swp").write_text("x")
    (recipes / "linkemu" / "Dockerfile~").write_text("x")
    (recipes / "linkemu" / "__pycache__").mkdir()
    (recipes / "linkemu" / "__pycache__" / "relay.cpython-311.pyc").write_bytes(b"x")
    assert image_tag("linkemu", "5.5.3", recipes) == before


def test_missing_recipe_folder_is_an_environment_problem(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentMissing, match="not found"):
        image_tag("origin", "5.5.3", tmp_path)


# --- the recipes themselves ----------------------------------------------------------------


def _packages(path: Path) -> set[str]:
    return {line.split("#")[0].strip() for line in path.read_text().splitlines()} - {""}


@pytest.mark.parametrize("role", ROLES)
def test_role_packages_are_all_in_the_base(role: str) -> None:
    # our base must already hold them, so building a role needs no network
    assert _packages(CONTAINERS_DIR / role / "packages.txt") <= _packages(CONTAINERS_DIR / "base" / "packages.txt")


@pytest.mark.parametrize("role", ROLES)
def test_role_dockerfile_starts_from_the_base_argument(role: str) -> None:
    text = (CONTAINERS_DIR / role / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE=debian:bookworm-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE\}$", text, re.M)
    assert "/usr/bin/tini" in text  # docker stop must not wait for xrootd as PID 1


# --- mirror from the host's apt sources ------------------------------------------------------

_DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def _apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_mirror_from_deb822_skips_security_and_trailing_slash(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {"sources.list.d/debian.sources": _DEB822})
    assert images.host_mirror(apt) == "http://mirror.example.org/debian"


def test_mirror_from_one_line_sources_with_options(tmp_path: Path) -> None:
    text = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.de.debian.org/debian trixie main\n"
    )
    apt = _apt_dir(tmp_path, {"sources.list": text})
    assert images.host_mirror(apt) == "http://ftp.de.debian.org/debian"


def test_mirror_ignores_disabled_stanzas_and_disabled_files(tmp_path: Path) -> None:
    disabled = "Enabled: no\n" + _DEB822.split("\n\n")[1]
    apt = _apt_dir(
        tmp_path,
        {
            "sources.list.d/a.sources": disabled,
            "sources.list.d/b.list.disabled": "deb http://off.example/debian bookworm main\n",
        },
    )
    assert images.host_mirror(apt) == images.DEFAULT_MIRROR


def test_mirror_defaults_without_a_debian_archive(tmp_path: Path) -> None:
    ubuntu = "deb http://archive.ubuntu.com/ubuntu jammy main\n"
    assert images.host_mirror(_apt_dir(tmp_path, {"sources.list": ubuntu})) == ("http://deb.debian.org/debian")
    assert images.host_mirror(tmp_path / "nowhere") == "http://deb.debian.org/debian"


def test_sources_list_comes_before_sources_list_d(tmp_path: Path) -> None:
    apt = _apt_dir(
        tmp_path,
        {
            "sources.list": "deb http://first.example/debian sid main\n",
            "sources.list.d/debian.sources": _DEB822,
        },
    )
    assert images.host_mirror(apt) == "http://first.example/debian"


# --- build_images without an engine ----------------------------------------------------------


class _FakeAPI:
    """The few docker.APIClient calls harness.images makes, over a set of existing tags."""

    def __init__(self, existing: set[str], build_output: list[dict[str, Any]]) -> None:
        self.existing = existing
        self.build_output = build_output
        self.builds: list[str] = []

    def images(self, name: str, quiet: bool) -> list[str]:
        return ["sha256:0"] if name in self.existing else []

    def build(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.builds.append(kwargs["tag"])
        return iter(self.build_output)


class _FakeClient:
    def __init__(self, existing: set[str], build_output: list[dict[str, Any]] | None = None):
        self.api = _FakeAPI(existing, build_output or [])


@pytest.fixture
def no_build_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host-wide build lock would make these tests wait for real builds running elsewhere."""
    monkeypatch.setattr(images, "_build_lock", lambda _progress: contextlib.nullcontext())


def _all_tags(xrootd: str) -> set[str]:
    return {image_tag(role, xrootd) for role in (*ROLES, "base")}


def test_existing_images_are_not_rebuilt() -> None:
    client = _FakeClient(_all_tags("5.5.3"))
    lines: list[str] = []
    tags = build_images("5.5.3", progress=lines.append, client=client)
    assert tags == {role: image_tag(role, "5.5.3") for role in ROLES}
    assert client.api.builds == []
    assert len(lines) == len(ROLES) and all("up to date" in line for line in lines)


def test_missing_images_names_the_roles_to_build() -> None:
    client = _FakeClient(_all_tags("5.8.1") - {image_tag("cache", "5.8.1")})
    assert images.missing_images("5.8.1", client=client) == ["cache"]


@pytest.mark.usefixtures("no_build_lock")
def test_missing_mmdebstrap_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(EnvironmentMissing, match=r"^mmdebstrap not found") as raised:
        build_images("5.5.3", client=_FakeClient(set()))
    assert "\n" not in str(raised.value)


@pytest.mark.usefixtures("no_build_lock")
def test_failed_role_build_raises_with_the_log_tail() -> None:
    existing = {image_tag("base", "5.5.3")}
    output = [{"stream": "Step 1/9 : FROM x\n"}, {"error": "no space left on device"}]
    client = _FakeClient(existing, output)
    lines: list[str] = []
    with pytest.raises(EnvironmentMissing, match="client image failed") as raised:
        build_images("5.5.3", lines.append, roles=["client"], client=client)
    assert "no space left on device" in "".join(raised.value.__notes__)
    assert lines[1:] == ["client: Step 1/9 : FROM x", "client: ERROR: no space left on device"]
