"""`teleservices simulate-rush` in a reduced size: a real platform, campaigns at once, families activating."""

from __future__ import annotations

from pathlib import Path

from teleservices.shared.embedded.rush import simulate_rush


def test_a_small_rush_loses_nothing_and_families_activate(tmp_path: Path) -> None:
    report = simulate_rush(tmp_path / "rush", 2, 30, 2, "tansu", activate_every=2, within_s=240)
    assert report.nothing_lost, report.text()
    assert report.accounts_notified == report.accounts_selected - sum(report.letters_failed.values()) >= 140
    assert report.emails_in_sink == report.emails_expected and report.duplicate_emails == []
    assert report.first_connections > 0 and report.activations == report.first_connections
    assert report.campaign_p99_s > 0 and report.portal_requests > 0
