"""`teleservices sync import PATH`: send a SIECLE/BEE export to the platform's importer and print its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from teleservices.shared.cli.client import DataDir, call

sync_app = typer.Typer(help="Imports SIECLE/BEE.", no_args_is_help=True)
SUCCESS = {"appliqué", "simulation", "aucun changement"}


def export_files(path: Path) -> list[Path]:
    """The files of an export: a folder's .xml and .zip files, or the one file given."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".xml", ".zip"))
    return [path]


@sync_app.command("import")
def sync_import(
    path: Annotated[Path, typer.Argument(exists=True, help="Dossier de l'export, ou ExportXML_<Nom>.zip.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer les différences sans les appliquer.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Passer outre l'arrêt de sécurité, l'export ancien.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Le rapport en JSON.")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Importe un export SIECLE/BEE (code de sortie 0 si appliqué, non nul avec le rapport sinon)."""
    files = export_files(path)
    if not files:
        typer.echo(f"Erreur : aucun fichier .xml ou .zip dans {path}", err=True)
        raise typer.Exit(2)
    handles = [(f.name, f.read_bytes()) for f in files]
    response = call(data_dir, "sync", "POST", "/api/v1/imports",
                    params={"dry_run": str(dry_run).lower(), "force": str(force).lower()},
                    files=[("files", h) for h in handles])
    if response.status_code >= 400:
        typer.echo(f"Erreur {response.status_code} : {response.text}", err=True)
        raise typer.Exit(1)
    report: dict[str, Any] = response.json()
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else summary(report))
    if report.get("status") not in SUCCESS:
        raise typer.Exit(1)


def summary(report: dict[str, Any]) -> str:
    """The report in a few French lines."""
    lines = [f"Import {report.get('status')} — établissement {report.get('uai') or '?'}"
             f" (année {report.get('annee_scolaire') or '?'})"]
    if report.get("motif"):
        lines.append(f"Motif : {report['motif']}")
    for kind, count in (report.get("counts") or {}).items():
        if count:
            lines.append(f"  {kind.replace('_', ' ')} : {count}")
    for problem in report.get("erreurs") or []:
        lines.append(f"  ERREUR {problem.get('fichier')} {problem.get('element') or ''} : {problem.get('message')}")
    warnings = report.get("avertissements") or []
    if warnings:
        lines.append(f"  {len(warnings)} avertissement(s), dont : {warnings[0].get('message')}")
    return "\n".join(lines)
