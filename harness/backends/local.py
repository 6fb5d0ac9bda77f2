"""The embedded default: real ``xrootd`` processes from the OS packages, on loopback.

Each server gets a directory ``<runtime>/<run-id>/<name>/`` (data, admin, logs, config),
a free port, and an explicit clean environment. As root, xrootd must be told to drop to
an unprivileged user (``-R``), and everything it touches must belong to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.backends.base import Placement, Role, Service, save_log
from harness.backends.files import Owner, chown_tree, server_environment, write_staged
from harness.errors import EnvironmentMissing, ServiceStartError, UserError
from harness.machine import local_xrootd_version

STOP_TIMEOUT_S = 5.0
OWNER_FILE = "harness.pid"  # lets `clean` find servers whose harness died


@dataclass
class LocalService:
    """A running xrootd process."""

    placement: Placement
    process: subprocess.Popen[bytes]
    log_path: Path
    config_path: Path

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def is_running(self) -> bool:
        return self.process.poll() is None


@dataclass
class LocalBackend:
    """Starts servers as local processes; use as a context manager so all of them stop."""

    run_dir: Path
    server_user: str = "xrootd"
    version: str | None = None  # the XRootD version asked for; local runs whatever is installed
    name: str = "local"
    monitor_bind: str = "127.0.0.1"
    services: list[LocalService] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.xrootd = shutil.which("xrootd")
        if self.xrootd is None:
            raise EnvironmentMissing("xrootd not found on PATH: run scripts/bootstrap (installs xrootd-server)")
        if self.version is not None:
            self._check_version(self.version)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / OWNER_FILE).write_text(str(os.getpid()))

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def place(self, name: str, role: Role) -> Placement:
        base = self.run_dir / name
        for sub in ("data", "adm", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        return Placement(
            name=name, role=role, host="localhost", port=free_port(), peer_host="localhost",
            data_dir=str(base / "data"), admin_dir=str(base / "adm"), monitor_host="127.0.0.1",
            server_dir=str(base), host_dir=str(base),
        )

    def start(self, placement: Placement, config: str, env: Mapping[str, str]) -> LocalService:
        base = Path(placement.admin_dir).parent
        config_path = base / "xrootd.cfg"
        config_path.write_text(config)
        self._give_to_server_user(base)
        process = subprocess.Popen(
            self._argv(config_path, base / "log" / "xrootd.log", placement.name),
            cwd=base, env=server_environment(str(base), env), start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        service = LocalService(placement, process, base / "log" / placement.name / "xrootd.log", config_path)
        self.services.append(service)
        return service

    def stage(self, placement: Placement, path: str, chunks: Iterable[bytes]) -> None:
        write_staged(Path(placement.data_dir), path, chunks, self._server_ids())

    def exec(self, service: Service, argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise ServiceStartError(f"{service.placement.name}: {argv[0]} failed: {done.stderr.strip()[:300]}")
        return done.stdout

    def stop(self, service: Service) -> None:
        service = _own(service)
        if service.is_running():
            service.process.send_signal(signal.SIGTERM)
            try:
                service.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(STOP_TIMEOUT_S)
        if service in self.services:
            self.services.remove(service)

    def save_logs(self, service: Service, dest_dir: str) -> None:
        save_log(service, dest_dir)

    def measure_links(self) -> list[dict[str, object]]:
        return []  # every server shares loopback: links are not emulated here

    def facts(self) -> dict[str, object]:
        return {}

    def close(self) -> None:
        # Reverse start order: caches go before the origins they read from.
        for service in reversed(list(self.services)):
            self.stop(service)

    def _check_version(self, wanted: str) -> None:
        installed = local_xrootd_version()
        if installed != wanted:
            raise UserError(f"the local backend runs the installed XRootD {installed}; "
                            f"for {wanted} use --backend docker")

    def _argv(self, config: Path, log: Path, name: str) -> list[str]:
        argv = [str(self.xrootd), "-c", str(config), "-l", str(log), "-n", name]
        # xrootd refuses to run as root; -R makes it setuid itself, keeping our PID.
        return [*argv, "-R", self.server_user] if os.geteuid() == 0 else argv

    def _server_ids(self) -> Owner:
        """Only root can (and must) hand files to the unprivileged server user."""
        if os.geteuid() != 0:
            return None
        user = pwd.getpwnam(self.server_user)
        return user.pw_uid, user.pw_gid

    def _give_to_server_user(self, path: Path) -> None:
        owner = self._server_ids()
        if owner is not None:
            chown_tree(path, *owner)


def _own(service: Service) -> LocalService:
    if not isinstance(service, LocalService):
        raise TypeError(f"{service!r} was not started by the local backend")
    return service


def free_port() -> int:
    """A TCP port that was free a moment ago (the server's start reports a clash clearly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
