"""Service processes of the embedded platform and of the tests start even when their port is held a moment."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from teleservices.shared.embedded.brokers import free_port
from teleservices.shared.embedded.processes import ServiceProcess
from tests.support.platform import PlatformUnderTest

pytestmark = pytest.mark.integration


def test_a_service_whose_port_is_held_for_a_moment_starts_on_it_once_it_is_free(
        platform: PlatformUnderTest) -> None:
    port = free_port()
    holder = socket.create_server(("127.0.0.1", port))
    process = ServiceProcess("stats", "stats", {**platform.env, "TELESERVICES_STATS_HTTP_PORT": str(port)}, port,
                             platform.workdir / "logs" / "stats-held-port.log")
    refused = threading.Event()
    release = threading.Thread(target=_close_once_refused, args=(holder, process, refused), daemon=True)
    try:
        process.start()
        release.start()
        process.wait_ready(timeout=90)
        assert refused.is_set()
    finally:
        holder.close()
        process.stop()


def _close_once_refused(holder: socket.socket, process: ServiceProcess, refused: threading.Event) -> None:
    """Free the port once the service has failed to bind it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "address already in use" in process.log_file.read_text():
            refused.set()
            break
        time.sleep(0.05)
    holder.close()
