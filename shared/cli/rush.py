"""`teleservices simulate-rush`: the back-to-school rush on this machine, with its report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer


def simulate_rush(
    establishments: Annotated[int, typer.Option(min=1, max=300, help="Nombre d'établissements.")] = 20,
    pupils_per_establishment: Annotated[int, typer.Option(min=10, max=5000, help="Élèves par établissement.")] = 1000,
    notifiers: Annotated[int, typer.Option(min=1, max=16, help="Nombre de processus notifier.")] = 2,
    broker: Annotated[str, typer.Option(help="Broker : tansu (embarqué) ou kafka (Apache Kafka, JDK).")] = "tansu",
    activate_every: Annotated[int, typer.Option(min=1, help="Une famille sur N active son compte sur le portail.")]
    = 5,
    families: Annotated[bool, typer.Option(
        help="Familles synthétiques sur le portail pendant la notification ; --no-families : les notifiers seuls "
             "(leur débit, sans la charge des familles sur les mêmes cœurs).")] = True,
    data_dir: Annotated[Path | None, typer.Option(help="Dossier de la plateforme simulée (défaut : temporaire).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Rapport en JSON, pour les scripts.")] = False,
) -> None:
    """Simule une rentrée : imports, toutes les campagnes lancées en même temps, familles sur le portail ; vérifie
    que rien n'est perdu ni doublé (code de sortie 1 sinon)."""
    from teleservices.shared.embedded.rush import simulate_rush as run

    if broker not in ("tansu", "kafka"):
        raise typer.BadParameter("tansu ou kafka", param_hint="--broker")
    with tempfile.TemporaryDirectory(prefix="teleservices-rush-") as tmp:
        folder = (data_dir or Path(tmp)).resolve()
        report = run(folder, establishments, pupils_per_establishment, notifiers, broker,
                     activate_every=activate_every, families=families)
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=2) if as_json else report.text())
    if not report.nothing_lost:
        raise typer.Exit(1)
