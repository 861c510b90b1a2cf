"""Data protection commands: `teleservices privacy verify-audit | breach-report | record | export | purge`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from teleservices.shared.cli.client import DataDir, call, report

if TYPE_CHECKING:
    from teleservices.shared.privacy.access import Fetch

privacy_app = typer.Typer(help="Protection des données (RGPD) : journal des actions, violations, registre, accès.",
                          no_args_is_help=True)


def _json(response: Any) -> Any:
    if response.status_code >= 400:
        report(response, "")
    return response.json()


@privacy_app.command("verify-audit")
def verify_audit(
    uai: Annotated[str | None, typer.Option(help="Vérifier la seule chaîne de cet établissement.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Vérifie le chaînage du journal des actions du personnel ; code 1 si une entrée a été modifiée ou supprimée."""
    params = {"uai": uai} if uai else {}
    result = _json(call(data_dir, "accounts", "GET", "/api/v1/audit/verification", params=params))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif result["intact"]:
        typer.echo(f"Journal intact : {result['entries']} entrée(s) dans {result['chains']} chaîne(s).")
        for head in result["heads"]:
            typer.echo(f"  {head['chain']:<10} entrée n° {head['seq']:<8} {head['hash']}")
    else:
        typer.echo(f"Journal ALTÉRÉ : {len(result['problems'])} anomalie(s) sur {result['entries']} entrée(s).")
        for problem in result["problems"]:
            where = f"entrée n° {problem['seq']}" if problem["seq"] is not None else "chaîne"
            typer.echo(f"  {problem['chain']:<10} {where:<16} {problem['kind']:<16} {problem['detail']}")
    if not result["intact"]:
        raise typer.Exit(1)


@privacy_app.command("breach-report")
def breach_report(
    acteur: Annotated[str | None, typer.Option(help="Identifiant du membre du personnel en cause.")] = None,
    depuis: Annotated[datetime | None, typer.Option(help="Début de la période (ISO 8601 avec fuseau).")] = None,
    jusqu_a: Annotated[datetime | None, typer.Option("--jusqu-a", help="Fin de la période (ISO 8601).")] = None,
    uai: Annotated[str | None, typer.Option(help="Limiter à un établissement.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON complète.")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Personnes et données touchées par un membre du personnel ou sur une période (violation, art. 33 RGPD)."""
    from teleservices.shared.privacy.breach import gather_breach

    params = {k: v.isoformat() if isinstance(v, datetime) else v
              for k, v in {"acteur": acteur, "depuis": depuis, "jusqu_a": jusqu_a, "uai": uai}.items() if v}
    result = _run(data_dir, lambda fetch: gather_breach(fetch, params))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{result['actions']} action(s) dans {len(result['etablissements'])} établissement(s) ; "
               f"{len(result['personnes'])} compte(s) touché(s).")
    for warning in result["avertissements"]:
        typer.echo(f"ATTENTION : {warning}")
    for action, count in result["enregistrements"].items():
        typer.echo(f"  {action:<36} {count}")
    for person in result["personnes"]:
        if person.get("supprime"):
            typer.echo(f"  compte {person['account_id']} (supprimé depuis)")
        else:
            typer.echo(f"  {person['uai']} {person['identifiant']:<32} {person['population']:<12}"
                       f" {person['nom']} {person['prenom']}")


def _run(data_dir: Path, work: Callable[[Fetch], Awaitable[Any]]) -> Any:
    """Run a gathering across services as the command line (academy operator), exiting clearly on failure."""
    import asyncio

    import httpx

    from teleservices.shared.cli.client import PlatformNotRunning, operator_token
    from teleservices.shared.privacy.access import ServiceRefused

    async def main() -> Any:
        headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
        async with httpx.AsyncClient(timeout=30, headers=headers) as client:
            async def fetch(service: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
                try:
                    answer = await client.get(f"{_service_url(data_dir, service)}{path}", params=params)
                except (httpx.TransportError, PlatformNotRunning) as exc:
                    raise ConnectionError(service) from exc
                try:
                    return answer.status_code, answer.json()
                except ValueError:
                    return answer.status_code, answer.text

            return await work(fetch)

    try:
        return asyncio.run(main())
    except PlatformNotRunning as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(2) from exc
    except ConnectionError as exc:
        typer.echo(f"Erreur : le service {exc} ne répond pas ; la plateforme est-elle démarrée ?", err=True)
        raise typer.Exit(2) from exc
    except ServiceRefused as exc:
        typer.echo(f"Erreur {exc.status} ({exc.service}) : {exc.detail}", err=True)
        raise typer.Exit(1) from exc


@privacy_app.command("record")
def record(
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Écrire aussi le registre en PDF dans ce fichier.")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Écrire le Markdown dans ce fichier (défaut : "
                                                               "sortie standard).")] = None,
) -> None:
    """Registre des activités de traitement (art. 30 RGPD), avec les durées de conservation en vigueur."""
    from pydantic import ValidationError

    from teleservices.shared.privacy.record import record_markdown, record_pdf

    try:
        text = record_markdown()
    except ValidationError as exc:
        typer.echo(f"Paramètres de conservation invalides :\n{exc}", err=True)
        raise typer.Exit(2) from exc
    if output is not None:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Registre écrit dans {output}")
    else:
        typer.echo(text, nl=False)
    if pdf is not None:
        pdf.write_bytes(record_pdf())
        typer.echo(f"Registre PDF écrit dans {pdf}", err=output is None)


def _service_url(data_dir: Path, service: str) -> str:
    """A service's URL; a notifier worker's from the embedded platform's list unless TELESERVICES_NOTIFIER_URL."""
    import os

    from teleservices.shared.cli.client import platform_file, service_url

    listed = platform_file(data_dir)
    if service == "notifier" and not os.environ.get("TELESERVICES_NOTIFIER_URL") and listed.exists():
        notifiers = json.loads(listed.read_text()).get("notifiers", [])
        if notifiers:
            return str(notifiers[0])
    return service_url(data_dir, service)


@privacy_app.command("export")
def export(
    uai: Annotated[str, typer.Option(help="UAI de l'établissement.")],
    person: Annotated[str, typer.Option("--person", help="Identifiant SIECLE (ELEVE_ID ou PERSONNE_ID).")],
    output: Annotated[Path | None, typer.Option("--out", help="Écrire le JSON dans ce fichier (défaut : sortie "
                                                               "standard).")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Écrire aussi le document lisible en PDF.")] = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Tout ce que la plateforme détient sur une personne (droit d'accès, art. 15 RGPD), en JSON et en PDF."""
    from teleservices.shared.privacy.access import access_pdf, as_json, assemble, gather
    from teleservices.shared.privacy.retention import current_retention

    parts = _run(data_dir, lambda fetch: gather(fetch, uai, person))
    if parts is None:
        typer.echo(f"Erreur : aucune donnée sur la personne {person} dans l'établissement {uai}.", err=True)
        raise typer.Exit(1)
    document = assemble(uai, person, parts, current_retention())
    text = as_json(document)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Export écrit dans {output}")
    else:
        typer.echo(text)
    if pdf is not None:
        pdf.write_bytes(access_pdf(document))
        typer.echo(f"Export PDF écrit dans {pdf}", err=output is None)


@privacy_app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Lister ce qui serait supprimé, sans rien supprimer.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON complète (identifiants).")] = False,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Supprime maintenant les données des élèves partis et des comptes devenus inutiles depuis plus que le délai
    de conservation (arrêté du 30 novembre 2006, art. 6) ; la même purge a lieu chaque nuit."""
    result = _json(call(data_dir, "accounts", "POST", "/api/v1/privacy/purge", params={"dry_run": dry_run}))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    verb = "seraient supprimés" if dry_run else "supprimés"
    rows = result["etablissements"]
    typer.echo(f"Délai de conservation : {result['conservation_jours']} jours après le départ. "
               f"{sum(r['comptes'] for r in rows)} compte(s), {sum(r['eleves'] for r in rows)} élève(s), "
               f"{sum(r['personnes'] for r in rows)} responsable(s) {verb}.")
    for row in rows:
        typer.echo(f"  {row['uai']}  comptes {row['comptes']:<6} élèves {row['eleves']:<6} "
                   f"responsables {row['personnes']}")
