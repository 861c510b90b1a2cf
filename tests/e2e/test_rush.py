"""`teleservices simulate-rush` in a reduced size: a real platform, campaigns at once, families activating."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from teleservices.shared.embedded.rush import simulate_rush
from tests.e2e.test_up import _tree


def test_a_small_rush_loses_nothing_and_families_activate(tmp_path: Path) -> None:
    report = simulate_rush(tmp_path / "rush", 2, 30, 2, "tansu", activate_every=2, within_s=240)
    assert report.nothing_lost, report.text()
    assert report.accounts_notified == report.accounts_selected - sum(report.letters_failed.values()) >= 140
    assert report.emails_in_sink == report.emails_expected and report.duplicate_emails == []
    assert report.first_connections > 0 and report.activations == report.first_connections
    assert report.campaign_p99_s > 0 and report.portal_requests > 0


def test_without_families_the_rush_only_notifies(tmp_path: Path) -> None:
    """`--no-families` (the benchmark's worker rows): the same campaigns, nobody on the portal."""
    report = simulate_rush(tmp_path / "rush", 1, 20, 1, "tansu", within_s=240, families=False)
    assert report.nothing_lost, report.text()
    assert report.accounts_notified > 0 and report.emails_in_sink == report.emails_expected > 0
    assert report.portal_requests == report.first_connections == 0
    assert "aucune famille simulée" in report.text()


def test_a_rush_stopped_by_sigterm_leaves_no_process(tmp_path: Path) -> None:
    """An operator (or a CI timeout) stopping the simulation with SIGTERM stops its whole platform too."""
    log = (tmp_path / "rush.log").open("w+")
    rush = subprocess.Popen([sys.executable, "-m", "teleservices.shared.cli", "simulate-rush", "--establishments", "1",
                             "--pupils-per-establishment", "10", "--data-dir", str(tmp_path / "rush")],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while len(_tree(rush.pid)) < 8 and time.monotonic() < deadline:  # PostgreSQL, broker, mailbox, services
            assert rush.poll() is None, Path(log.name).read_text()
            time.sleep(0.5)
        processes = _tree(rush.pid)
        assert len(processes) >= 8, Path(log.name).read_text()
    finally:
        rush.send_signal(signal.SIGTERM)
        rush.wait(120)
    time.sleep(2)
    assert [pid for pid in processes if Path(f"/proc/{pid}").exists()] == []
