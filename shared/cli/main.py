"""`teleservices`: run the platform, one service, or an operator action."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from teleservices.shared.cli.academy import accounts_app, establishments_app
from teleservices.shared.cli.client import DataDir, call, report
from teleservices.shared.cli.privacy import privacy_app
from teleservices.shared.cli.rush import simulate_rush
from teleservices.shared.cli.sync import sync_app
from teleservices.shared.services import SERVICES

app = typer.Typer(
    help="Téléservices : comptes des élèves et de leurs représentants légaux pour les services en ligne.",
    no_args_is_help=True, pretty_exceptions_enable=False,
)
staff_app = typer.Typer(help="Comptes du personnel (chef d'établissement, délégués, opérateurs académiques).",
                        no_args_is_help=True)
app.add_typer(staff_app, name="staff")
app.add_typer(establishments_app, name="establishments")
app.add_typer(accounts_app, name="accounts")
app.add_typer(sync_app, name="sync")
app.add_typer(privacy_app, name="privacy")
app.command("simulate-rush")(simulate_rush)

DEFAULT_DATA_DIR = Path(".data")


@app.command()
def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    notifiers: Annotated[int, typer.Option(min=1, max=16, help="Nombre de processus notifier.")] = 1,
    broker: Annotated[str, typer.Option(help="Broker : tansu (embarqué) ou kafka (Apache Kafka, JDK).")] = "tansu",
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Ne pas créer l'établissement de démonstration.")] = False,
) -> None:
    """Démarre toute la plateforme sur cette machine : PostgreSQL, broker, boîte aux lettres, services, démo."""
    from teleservices.shared.embedded.platform import EmbeddedPlatform

    if broker not in ("tansu", "kafka"):
        raise typer.BadParameter("tansu ou kafka", param_hint="--broker")
    EmbeddedPlatform(data_dir.resolve(), notifiers=notifiers, broker=broker, demo=not no_demo).run()


@app.command()
def run(service: Annotated[str, typer.Argument(help=f"Un service parmi : {', '.join(SERVICES)}.")]) -> None:
    """Lance un service dans ce processus (paramètres lus dans l'environnement)."""
    import uvicorn

    from teleservices.shared.logs import configure_logging

    spec = SERVICES.get(service)
    if spec is None:
        raise typer.BadParameter(f"service inconnu ; choisir parmi {', '.join(SERVICES)}", param_hint="SERVICE")
    configure_logging(service, os.environ.get("TELESERVICES_LOG_LEVEL", "INFO"))
    try:
        settings = spec.settings()
    except ValidationError as exc:
        typer.echo(f"Configuration invalide pour {service} :\n{exc}", err=True)
        raise typer.Exit(2) from exc
    config = uvicorn.Config(spec.create_app(settings), host=settings.http_host, port=settings.http_port,
                            log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run()


@app.command()
def init() -> None:
    """Applique les migrations de chaque service et crée les topics (une fois, avant les services)."""
    from teleservices.shared.kafka.broker import ensure_topics
    from teleservices.shared.messages.topics import ALL_TOPICS
    from teleservices.shared.runtime import ServiceRuntime

    async def initialise() -> None:
        for spec in SERVICES.values():
            runtime = ServiceRuntime(spec.name, spec.settings(),
                                     migrations=_migrations_dir(spec.module))
            applied = await runtime.db.migrate([runtime.migrations] if runtime.migrations else [])
            typer.echo(f"{spec.name}: {len(applied)} migration(s) appliquée(s)")
        settings = next(iter(SERVICES.values())).settings()
        created = await ensure_topics(settings.kafka, ALL_TOPICS)
        typer.echo(f"topics créés : {', '.join(created) or 'aucun (déjà présents)'}")

    asyncio.run(initialise())


def _migrations_dir(module: str) -> Path | None:
    import importlib

    folder = Path(importlib.import_module(module).__file__ or "").parent / "migrations"
    return folder if folder.is_dir() else None


@app.command()
def mailbox(
    directory: Annotated[Path, typer.Option("--dir", help="Dossier où les messages sont gardés.")] = Path(
        ".data/mailbox"),
    smtp_port: Annotated[int, typer.Option(help="Port SMTP (127.0.0.1).")] = 1025,
    http_port: Annotated[int, typer.Option(help="Port de la boîte web (127.0.0.1).")] = 8025,
) -> None:
    """Lance le serveur SMTP de test et sa boîte aux lettres web (courriers de la plateforme embarquée)."""
    from teleservices.shared.embedded.mailbox import serve_mailbox
    from teleservices.shared.logs import configure_logging

    configure_logging("mailbox")
    asyncio.run(serve_mailbox(directory, smtp_port=smtp_port, http_port=http_port))


@app.command("demo-export")
def demo_export(
    pupils: Annotated[int, typer.Option(min=1, help="Nombre d'élèves de l'établissement fictif (collège).")],
    uai: Annotated[str, typer.Option(help="UAI (RNE) de l'établissement, ex. 0540001A.")] = "0540001A",
    seed: Annotated[int, typer.Option(help="Graine : la même graine donne les mêmes fichiers.")] = 2018,
    directory: Annotated[Path | None, typer.Option("--dir", help="Dossier de sortie (défaut : .data/demo-export/UAI).")
                         ] = None,
    zipped: Annotated[bool, typer.Option("--zip", help="Fichiers zippés comme SIECLE les livre (ExportXML_*.zip).")
                      ] = False,
) -> None:
    """Écrit un export SIECLE/BEE fictif (élèves, responsables, nomenclature, structures) pour démos et essais."""
    from teleservices.sync.demo_export import write_demo_export

    folder = directory or DEFAULT_DATA_DIR / "demo-export" / uai
    try:
        summary = write_demo_export(folder, uai=uai, pupils=pupils, seed=seed, zipped=zipped)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    size_bytes = summary.size_bytes
    size = (f"{size_bytes / 1e6:.1f} Mo" if size_bytes >= 1e6 else f"{size_bytes / 1e3:.0f} ko").replace(".", ",")
    typer.echo(f"Export fictif de l'établissement {summary.uai} ({summary.annee_scolaire}-{summary.annee_scolaire + 1}"
               f") écrit dans {folder} : {summary.pupils} élèves dont {summary.departed} partis, {summary.persons} "
               f"personnes, {summary.legal_links} liens de représentant légal, {summary.divisions} divisions, "
               f"{summary.groups} groupes, {len(summary.files)} fichiers ({size}).")


@staff_app.command("add")
def staff_add(
    login: Annotated[str, typer.Argument(help="Identifiant de connexion.")],
    role: Annotated[str, typer.Option(help="chef, delegue ou operateur_academique.")],
    uai: Annotated[list[str] | None, typer.Option(help="UAI d'un établissement (répétable).")] = None,
    name: Annotated[str | None, typer.Option(help="Nom affiché.")] = None,
    academy: Annotated[str | None, typer.Option(help="Académie (opérateurs).")] = None,
    menu: Annotated[list[str] | None, typer.Option(help="Menu délégué (répétable, délégués).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Lire le mot de passe sur stdin.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Crée un compte local du personnel sur la plateforme démarrée."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Mot de passe : ")
    body = {"login": login, "display_name": name or login, "role": role, "academy": academy,
            "uais": uai or [], "menus": menu or [], "password": password}
    report(call(data_dir, "gateway", "POST", "/api/v1/staff", json=body), f"compte {login} créé")


@app.command()
def replay(
    service: Annotated[str, typer.Argument(help="Le service dont les messages sont republiés.")],
    since: Annotated[datetime, typer.Option(help="Depuis quand (ISO 8601, ex. 2026-09-01T00:00:00+02:00).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Republie ce qu'un service a émis depuis une date (après la perte des messages du broker)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"service inconnu ; choisir parmi {', '.join(SERVICES)}", param_hint="SERVICE")
    report(call(data_dir, service, "POST", "/admin/replay", params={"since": since.isoformat()}),
           "messages remis en publication")


def main() -> None:
    """Entry point of the `teleservices` command."""
    app()
