"""The `teleservices` command line: every command answers --help; operator commands fail clearly offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from teleservices.shared.cli.main import app

runner = CliRunner()


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(command, "commands"):  # a group (typer ships its own click)
        for name, sub in command.commands.items():
            paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def test_the_contract_commands_exist() -> None:
    assert {("up",), ("run",), ("init",), ("mailbox",), ("staff", "add"), ("replay",), ("establishments", "add"),
            ("accounts", "export"), ("accounts", "expire"), ("sync", "import")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "teleservices")
def test_every_command_answers_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.mark.parametrize("args", [
    ["staff", "add", "chef.test", "--role", "chef", "--uai", "0540001A", "--password-stdin"],
    ["replay", "accounts", "--since", "2026-09-01T00:00:00"],
    ["establishments", "add", "0540001A", "--name", "Collège", "--academy", "NANCY-METZ"],
    ["accounts", "export", "--uai", "0540001A", "--json"],
    ["accounts", "expire", "--dry-run"],
    ["sync", "import", "tests/fixtures/siecle/college_minimal", "--dry-run"],
])
def test_operator_commands_exit_non_zero_when_no_platform_runs(tmp_path: Path, args: list[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELESERVICES_GATEWAY_URL", raising=False)
    monkeypatch.delenv("TELESERVICES_ACCOUNTS_URL", raising=False)
    monkeypatch.delenv("TELESERVICES_SECRET_STAFF_TOKEN_KEY", raising=False)
    monkeypatch.delenv("TELESERVICES_SYNC_URL", raising=False)
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)], input="un-mot-de-passe-long\n")
    assert result.exit_code == 2
    assert "aucune plateforme démarrée" in result.output


def test_run_refuses_an_unknown_service() -> None:
    result = runner.invoke(app, ["run", "fax"])
    assert result.exit_code != 0
    assert "service inconnu" in result.output
