"""Operator commands on establishments and accounts: `teleservices establishments …`, `teleservices accounts …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from teleservices.shared.cli.client import DataDir, call, report

establishments_app = typer.Typer(help="Établissements de l'académie.", no_args_is_help=True)
accounts_app = typer.Typer(help="Comptes des élèves et des responsables.", no_args_is_help=True)


@establishments_app.command("add")
def establishments_add(
    uai: Annotated[str, typer.Argument(help="UAI (RNE) de l'établissement, ex. 0540001A.")],
    name: Annotated[str, typer.Option(help="Nom de l'établissement.")],
    academy: Annotated[str, typer.Option(help="Académie, ex. NANCY-METZ.")],
    type: Annotated[str | None, typer.Option(help="Collège, Lycée…")] = None,
    town: Annotated[str | None, typer.Option(help="Commune.")] = None,
    module: Annotated[list[str] | None, typer.Option(help="Module SIECLE utilisé (répétable).")] = None,
    perimetre: Annotated[list[str] | None, typer.Option(help="Périmètre (répétable).")] = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Crée un établissement (opérateurs académiques)."""
    body = {"uai": uai, "name": name, "academy": academy, "type": type, "town": town, "modules": module,
            "perimetres": perimetre}
    response = call(data_dir, "accounts", "POST", "/api/v1/establishments",
                    json={k: v for k, v in body.items() if v is not None})
    report(response, f"établissement {uai} créé")


@accounts_app.command("export")
def accounts_export(
    uai: Annotated[str, typer.Option(help="UAI de l'établissement.")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (une liste d'objets).")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Liste chaque compte : identifiant, type, état, identifiants SIECLE, continuité."""
    response = call(data_dir, "accounts", "GET", f"/api/v1/establishments/{uai}/export")
    if response.status_code >= 400:
        report(response, "")
    rows = response.json()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        flag = " (continuité)" if row["continuity"] else ""
        typer.echo(f"{row['identifiant']:<40} {row['kind']:<12} {row['state']:<24} élève {row['eleve_id']}{flag}")


@accounts_app.command("expire")
def accounts_expire(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Lister sans supprimer.")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Supprime les comptes non activés après 3 mois ou inutilisés depuis un an."""
    response = call(data_dir, "accounts", "POST", "/api/v1/admin/expiry", params={"dry_run": str(dry_run).lower()})
    if response.status_code >= 400:
        report(response, "")
    result = response.json()
    verb = "seraient supprimés" if dry_run else "supprimés"
    typer.echo(f"{result['count']} compte(s) {verb}")
    for account in result["accounts"]:
        typer.echo(f"  {account['identifiant']} ({account['state']}, {account['uai']})")
