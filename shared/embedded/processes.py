"""Service processes started by the embedded platform and by the tests: start, wait ready, stop, kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

_PORT_TAKEN = "address already in use"


class ServiceProcess:
    """One `teleservices run SERVICE` process with its environment and log file."""

    def __init__(self, name: str, service: str, env: dict[str, str], port: int, log_file: Path):
        self.name = name
        self.service = service
        self.env = env
        self.port = port
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @property
    def url(self) -> str:
        """Base URL of the process's HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Launch the process (its output is appended to its log file)."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._log_start = log.tell()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "teleservices.shared.cli", "run", self.service],
                env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 60.0, port_retries: int = 3) -> None:
        """Block until /readyz answers 200; fail with the log tail if the process died or took too long.

        A process that found its port taken is started again on it, up to `port_retries` times a second apart: a
        port free when it was chosen can be held for a moment by a connection of another process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                if port_retries > 0 and _PORT_TAKEN in self._log_since_start():
                    port_retries -= 1
                    time.sleep(1)
                    self.start()
                    continue
                raise RuntimeError(f"{self.name} exited during start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM); `stop` waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _log_since_start(self) -> str:
        with self.log_file.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def log_tail(self, size: int = 3000) -> str:
        """The end of the process's log."""
        if not self.log_file.exists():
            return ""
        return self.log_file.read_bytes()[-size:].decode(errors="replace")
