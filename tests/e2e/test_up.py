"""`teleservices up` (what `make up` runs) on a fresh data folder: every service answers, the demo collège and the
demo staff accounts exist, nothing listens beyond 127.0.0.1, and Ctrl-C stops every process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from teleservices.shared.embedded.brokers import free_port

PORTS = ("GATEWAY_HTTP_PORT", "PORTAL_AUTH_HTTP_PORT", "ACCOUNTS_HTTP_PORT", "SYNC_HTTP_PORT", "STATS_HTTP_PORT",
         "MAILBOX_SMTP_PORT", "MAILBOX_HTTP_PORT", "BROKER_PORT")


def _tree(root: int) -> set[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def _listening(pids: set[int]) -> list[str]:
    """host:port of every TCP socket in LISTEN state owned by these processes."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                found.append(f"{_host(address)}:{int(port, 16)}")
    return found


def _host(hex_address: str) -> str:
    if len(hex_address) == 8:
        return ".".join(str(b) for b in reversed(bytes.fromhex(hex_address)))
    return "::1" if hex_address == "00000000000000000000000001000000" else hex_address


@pytest.mark.timeout(300)
def test_up_serves_the_demo_on_localhost_only_and_stops_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, **{f"TELESERVICES_{name}": str(free_port()) for name in PORTS}}
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen([sys.executable, "-m", "teleservices.shared.cli", "up", "--data-dir", str(tmp_path / "data")],
                          env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while "Journaux" not in Path(log.name).read_text() and time.monotonic() < deadline:
            assert up.poll() is None, Path(log.name).read_text()
            time.sleep(1)
        printed = Path(log.name).read_text()
        assert re.search(r"chef\.demo \S{12,}", printed) and "operateur.demo" in printed, printed
        gateway = f"http://127.0.0.1:{env['TELESERVICES_GATEWAY_HTTP_PORT']}"
        portal = f"http://127.0.0.1:{env['TELESERVICES_PORTAL_AUTH_HTTP_PORT']}"
        mailbox = f"http://127.0.0.1:{env['TELESERVICES_MAILBOX_HTTP_PORT']}"
        for url in (f"{gateway}/connexion", f"{portal}/connexion", mailbox):
            assert httpx.get(url, timeout=10).status_code == 200, url
        processes = _tree(up.pid)
        listening = _listening(processes)
        assert listening and all(a.startswith(("127.0.0.1:", "::1:")) for a in listening), listening
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(90)
    time.sleep(2)
    survivors = [pid for pid in processes if Path(f"/proc/{pid}").exists()]
    assert survivors == [], survivors
