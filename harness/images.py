"""Container images of the harness, built without a registry and named by their recipe.

The base image is a root filesystem written by mmdebstrap (``containers/base/mkrootfs.sh``)
and imported into Docker, because nothing can be pulled on the test hosts. Each role image
(``containers/<role>/Dockerfile``) starts ``FROM`` that base. A tag carries a hash of the
recipe files and the XRootD version, so an unchanged image is never rebuilt::

    tags = build_images("5.5.3", progress=print)
    tags["origin"]      # 'xcache-harness/origin:5.5.3-<12 hex digits>'
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from harness.errors import EnvironmentMissing, UserError

if TYPE_CHECKING:
    import docker

XROOTD_SUITES: dict[str, str] = {"5.5.3": "bookworm", "5.8.1": "trixie"}
"""XRootD version -> the Debian suite whose archive carries exactly that version."""

ROLES = ("origin", "cache", "client", "linkemu")
"""Role images, one folder each under ``containers/``; all start from the ``base`` image."""

BASE = "base"
REPOSITORY = "xcache-harness"
CONTAINERS_DIR = Path(__file__).resolve().parent.parent / "containers"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
LABEL_HASH = "org.xcache-harness.recipe-hash"
LABEL_XROOTD = "org.xcache-harness.xrootd"

Progress = Callable[[str], None]

# Suites a Debian archive serves; an apt source naming one of them is a Debian mirror
# (and not, say, bookworm-security, a vendor repository or an Ubuntu archive).
_DEBIAN_SUITES = frozenset(
    {"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid"}
    | {"oldstable", "stable", "testing", "unstable"}
)
_BUILD_TIMEOUT_S = 1800  # the debian:*-slim path runs apt-get inside the build


def suite_for(xrootd: str) -> str:
    """Return the Debian suite for an XRootD version; ``UserError`` names the known ones."""
    try:
        return XROOTD_SUITES[xrootd]
    except KeyError:
        known = ", ".join(XROOTD_SUITES)
        raise UserError(f"unknown XRootD version {xrootd!r}; known versions: {known}") from None


def recipe_hash(role: str, xrootd: str, root: Path = CONTAINERS_DIR) -> str:
    """Hex digest of everything an image is built from: base folder, role folder, version."""
    _check_role(role)
    digest = hashlib.sha256(f"xrootd={xrootd} suite={suite_for(xrootd)}\n".encode())
    for folder in dict.fromkeys((BASE, role)):  # the base image hashes its own folder once
        for path in _recipe_files(root / folder):
            data = path.read_bytes()
            # name and length first, so moving bytes between files changes the digest
            digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def image_tag(role: str, xrootd: str, root: Path = CONTAINERS_DIR) -> str:
    """Tag of a role's image (``base`` included), e.g. ``xcache-harness/origin:5.5.3-<hash12>``."""
    return f"{REPOSITORY}/{role}:{xrootd}-{recipe_hash(role, xrootd, root)[:12]}"


def missing_images(
    xrootd: str,
    roles: Sequence[str] = ROLES,
    client: docker.DockerClient | None = None,
    root: Path = CONTAINERS_DIR,
) -> list[str]:
    """Roles whose image for this recipe and XRootD version is not in the local engine."""
    tags = {role: image_tag(role, xrootd, root) for role in roles}
    client = client or _connect()
    return [role for role, tag in tags.items() if not _exists(client, tag)]


def build_images(
    xrootd: str,
    progress: Progress = lambda _m: None,
    roles: Sequence[str] = ROLES,
    force: bool = False,
    client: docker.DockerClient | None = None,
    mirror: str | None = None,
    root: Path = CONTAINERS_DIR,
) -> dict[str, str]:
    """Build the images of ``roles`` that do not exist yet; return role -> tag.

    ``progress`` receives one line per step (mmdebstrap stages, Dockerfile steps), not
    apt's output; role images build in parallel threads, but calls never overlap.
    ``force`` rebuilds the base and the requested roles. ``mirror`` defaults to the Debian
    archive in the host's apt sources. Raises ``EnvironmentMissing`` when Docker or
    mmdebstrap is missing or a build fails (the build log tail is attached).
    """
    tags = {role: image_tag(role, xrootd, root) for role in roles}  # validate before work
    job = _Job(client or _connect(), xrootd, _serialised(progress), force, root)
    todo = _todo(job, tags)
    if todo:
        with _build_lock(progress):
            todo = _todo(job, tags)  # another build on this host may have made them meanwhile
            _build(job, todo, tags, mirror or host_mirror())
    for role in roles:
        if role not in todo:
            progress(f"{role}: {tags[role]} is up to date")
    return tags


def host_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The first Debian archive URI in the host's apt sources, else deb.debian.org."""
    for uri, suites in _apt_sources(apt_dir):
        if _DEBIAN_SUITES.intersection(suites):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


# --- recipe files ---------------------------------------------------------------------


def _check_role(role: str) -> None:
    if role != BASE and role not in ROLES:
        raise UserError(f"unknown image role {role!r}; known roles: {', '.join(ROLES)}")


def _recipe_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise EnvironmentMissing(f"image recipe folder {folder} not found (not a source checkout?)")
    # editor droppings and caches must not change the tag
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.parts)
        and not path.name.endswith("~")
    )


def _labels(role: str, xrootd: str, root: Path) -> dict[str, str]:
    # each label is one more builder step (~1.6 s): keep to what the harness looks up
    return {LABEL_HASH: recipe_hash(role, xrootd, root), LABEL_XROOTD: xrootd}


# --- apt sources ----------------------------------------------------------------------


def _apt_sources(apt_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """(URI, suites) of each enabled ``deb`` source, in the order apt reads the files."""
    parts = apt_dir / "sources.list.d"
    files = [apt_dir / "sources.list"]
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        if path.is_file():
            text = path.read_text(errors="replace")
            parse = _deb822_sources if path.suffix == ".sources" else _one_line_sources
            yield from parse(text)


_ONE_LINE = re.compile(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)")


def _one_line_sources(text: str) -> Iterator[tuple[str, list[str]]]:
    for line in text.splitlines():
        if match := _ONE_LINE.match(line.strip()):
            yield match[1], [match[2]]


def _deb822_sources(text: str) -> Iterator[tuple[str, list[str]]]:
    for stanza in re.split(r"\n\s*\n", text):
        fields = _deb822_fields(stanza)
        enabled = fields.get("enabled", "yes").lower() != "no"
        if enabled and "deb" in fields.get("types", "").split() and fields.get("uris"):
            yield fields["uris"].split()[0], fields.get("suites", "").split()


def _deb822_fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in stanza.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace() and key:  # continuation line
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


# --- docker ---------------------------------------------------------------------------


def _connect() -> docker.DockerClient:
    try:
        import docker
    except ImportError:
        raise EnvironmentMissing("the 'docker' Python package is not installed") from None
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise EnvironmentMissing(f"Docker engine not reachable: {exc}") from None
    return client


def _exists(client: docker.DockerClient, tag: str) -> bool:
    return bool(client.api.images(name=tag, quiet=True))


@dataclass(frozen=True)
class _Job:
    """What every build step of one ``build_images`` call needs."""

    client: docker.DockerClient
    xrootd: str
    progress: Progress
    force: bool
    root: Path


def _serialised(progress: Progress) -> Progress:
    lock = threading.Lock()

    def locked(message: str) -> None:
        with lock:  # role builds run in threads; a print() from two would interleave
            progress(message)

    return locked


def _todo(job: _Job, tags: dict[str, str]) -> list[str]:
    return [role for role, tag in tags.items() if job.force or not _exists(job.client, tag)]


@contextmanager
def _build_lock(progress: Progress) -> Iterator[None]:
    """One build at a time on this host: parallel test workers would each run mmdebstrap."""
    with (Path(tempfile.gettempdir()) / "xcache-harness-images.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("waiting for another image build on this host")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _build(job: _Job, todo: list[str], tags: dict[str, str], mirror: str) -> None:
    if not todo:
        return
    base = _ensure_base(job, mirror)
    # Each step of the classic builder creates and commits a container (~1.6 s on
    # fuse-overlayfs) and the roles are independent: side by side, four roles took
    # 22 s instead of 55 s on a 2-core host.
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        builds = [pool.submit(_build_role, job, role, base, tags[role]) for role in todo]
        for build in builds:
            build.result()  # re-raises a failed build's error


def _ensure_base(job: _Job, mirror: str) -> str:
    tag = image_tag(BASE, job.xrootd, job.root)
    if _exists(job.client, tag) and not job.force:
        job.progress(f"base: {tag} is up to date")
        return tag
    if shutil.which("mmdebstrap") is None:
        raise EnvironmentMissing(
            "mmdebstrap not found: apt-get install mmdebstrap, or build containers/ FROM "
            "debian:*-slim with a registry (containers/README.md)"
        )
    started = time.monotonic()
    # A file, not a pipe into the engine: a failed mmdebstrap must not become an image.
    with tempfile.TemporaryDirectory(prefix="xcache-harness-rootfs-") as tmp:
        tar = Path(tmp) / "rootfs.tar"
        _run_mmdebstrap(job, mirror, tar)
        job.progress(f"base: importing {tar.stat().st_size / 2**20:.0f} MiB root filesystem")
        labels = _labels(BASE, job.xrootd, job.root)
        changes = [f"LABEL {key}={value}" for key, value in labels.items()]
        repository, _, version = tag.rpartition(":")
        job.client.api.import_image_from_file(str(tar), repository, version, changes=changes)
    job.progress(f"base: built {tag} in {time.monotonic() - started:.1f} s")
    return tag


def _run_mmdebstrap(job: _Job, mirror: str, tar: Path) -> None:
    suite, script = suite_for(job.xrootd), job.root / BASE / "mkrootfs.sh"
    command = ["sh", str(script), suite, mirror, job.xrootd, str(tar)]
    job.progress(f"base: mmdebstrap {suite} from {mirror}")
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stderr is not None
        tail = _follow(proc.stderr, lambda line: _mmdebstrap_step(line, job.progress))
    if proc.returncode != 0:
        message = f"mmdebstrap could not build the {suite} root filesystem (exit {proc.returncode})"
        _fail(message, tail)


def _mmdebstrap_step(line: str, progress: Progress) -> None:
    # "I: extracting archives..." are the stages; apt's own lines only go to the error tail
    if line.startswith(("I: ", "W: ", "E: ")) and "tempdir" not in line:
        progress(f"base: {line[3:] if line.startswith('I: ') else line}")


def _build_role(job: _Job, role: str, base: str, tag: str) -> None:
    started = time.monotonic()
    stream = job.client.api.build(
        path=str(job.root / role),
        tag=tag,
        buildargs={"BASE": base},
        labels=_labels(role, job.xrootd, job.root),
        rm=True,
        forcerm=True,
        pull=False,  # the base exists only locally
        # a recipe whose tag was deleted reuses cached layers; --force really rebuilds
        nocache=job.force,
        decode=True,
        timeout=_BUILD_TIMEOUT_S,
    )
    tail = _follow(_build_lines(stream), lambda line: _build_step(role, line, job.progress))
    # the classic builder's last line on success (the tag may predate a failed --force build)
    if f"Successfully tagged {tag}" not in tail:
        _fail(f"docker build of the {role} image failed", tail)
    job.progress(f"{role}: built {tag} in {time.monotonic() - started:.1f} s")


def _build_lines(stream: Iterable[dict[str, Any]]) -> Iterator[str]:
    for chunk in stream:
        if "error" in chunk:
            yield f"ERROR: {chunk['error']}"
        yield from chunk.get("stream", "").splitlines()


def _build_step(role: str, line: str, progress: Progress) -> None:
    if line.startswith(("Step ", "ERROR: ")):
        progress(f"{role}: {line}")


def _follow(lines: Iterable[str], on_line: Callable[[str], None]) -> deque[str]:
    """Feed each line to ``on_line``; keep the last ones for an error message."""
    tail: deque[str] = deque(maxlen=40)
    for raw in lines:
        line = raw.rstrip()
        tail.append(line)
        on_line(line)
    return tail


def _fail(message: str, tail: Iterable[str]) -> NoReturn:
    error = EnvironmentMissing(message)
    error.add_note("build log (last lines):\n" + "\n".join(tail))
    raise error
