"""A UDP listener thread that hands each datagram to a parser; a context manager."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class UdpListener:
    """Receives datagrams on ``bind_host`` (port chosen by the OS) until closed."""

    def __init__(self, bind_host: str, on_packet: Callable[[bytes, float], None]) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((bind_host, 0))
        self._sock.settimeout(0.2)  # lets the thread notice close() promptly
        self._on_packet = on_packet
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="udp-listener", daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def __enter__(self) -> UdpListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except (TimeoutError, OSError):
                continue
            self._on_packet(data, time.time())
