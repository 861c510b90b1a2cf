"""An import run: validate the export, compute the difference, apply it as one unit with one event per change."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from teleservices.shared.db import Database
from teleservices.shared.kafka.outbox import enqueue_many
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.siecle import EleveArrived, ImportApplied
from teleservices.shared.messages.topics import SYNC_EVENTS
from teleservices.sync import repository as repo
from teleservices.sync.domain.difference import Difference, difference
from teleservices.sync.domain.snapshot import Snapshot, snapshot_of
from teleservices.sync.settings import SyncSettings
from teleservices.sync.siecle.export import ExportInput, SiecleExport, parse_export
from teleservices.sync.siecle.problems import SiecleFileError

log = logging.getLogger(__name__)


class Status:
    """How a run ended, in the words staff read in the report."""

    applied = "appliqué"
    simulated = "simulation"
    unchanged = "aucun changement"
    refused = "refusé"


@dataclass
class ImportRequest:
    """One run asked by staff, the command line or the nightly schedule."""

    inputs: ExportInput
    actor: str
    expected_uai: str | None = None
    dry_run: bool = False
    force: bool = False


@dataclass
class Importer:
    """Imports SIECLE/BEE exports, one establishment per run, all or nothing."""

    db: Database
    settings: SyncSettings

    async def run(self, request: ImportRequest, today: date | None = None) -> dict[str, Any]:
        """Run one import and keep its report; a refused run changes nothing."""
        started, run_id = datetime.now(UTC), uuid.uuid4()
        report: dict[str, Any] = {"run_id": str(run_id), "dry_run": request.dry_run, "forced": request.force}
        try:
            export = await asyncio.to_thread(parse_export, request.inputs, today=today or date.today())
        except SiecleFileError as exc:
            return await self._refused(report, run_id, None, request, started, [_file_error(exc)], None)
        report.update(uai=export.uaj, annee_scolaire=export.annee_scolaire,
                      avertissements=[_problem(p) for p in export.avertissements])
        if export.erreurs:
            return await self._refused(report, run_id, export, request, started,
                                       [_problem(p) for p in export.erreurs], "l'export contient des erreurs")
        if request.expected_uai and export.uaj != request.expected_uai:
            return await self._refused(report, run_id, export, request, started, [{
                "fichier": export.headers[0].file, "element": "PARAMETRES/UAJ", "identifiant": export.uaj,
                "champ": "UAJ", "message": f"L'export est celui de l'établissement {export.uaj}, "
                                           f"pas de {request.expected_uai}."}], "mauvais établissement")
        async with self.db.transaction() as conn:
            establishment = await repo.known_establishment(conn, export.uaj, for_update=True)
            if establishment is None:
                reason = f"l'établissement {export.uaj} n'est pas connu de la plateforme"
                return await self._refused(report, run_id, export, request, started, [], reason, conn)
            horodatage = export.headers[0].horodatage
            last = establishment["last_horodatage"]
            if last and horodatage and horodatage < last and not request.force:
                reason = (f"cet export ({horodatage:%d/%m/%Y %H:%M}) est plus ancien que le dernier appliqué "
                          f"({last:%d/%m/%Y %H:%M}) ; relancez avec « forcer » pour l'appliquer quand même")
                return await self._refused(report, run_id, export, request, started, [], reason, conn)
            held = await repo.load_snapshot(conn, export.uaj)
            new = snapshot_of(export, held)
            continuity, suspected = await self._continuity(conn, export.uaj, establishment["academy"], held, new)
            diff = difference(export.uaj, held, new, continuity)
            report["continuite"] = {"certaines": len(continuity), "a_examiner": len(suspected)}
            report["counts"] = diff.counts()
            report["eleves"] = {"avant": len(held.eleves), "apres": len(new.eleves)}
            valve = self._safety_valve(held, diff)
            if valve and not request.force:
                return await self._refused(report, run_id, export, request, started, [], valve, conn)
            if valve:
                report["arret_de_securite_force"] = valve
            if request.dry_run:
                report["changes"] = [_describe(change) for change in diff.changes]
                return await self._finish(conn, report, run_id, export, request, started, Status.simulated)
            if not diff:
                return await self._finish(conn, report, run_id, export, request, started, Status.unchanged)
            await self._apply(conn, export, held, new, diff, run_id)
            for eleve_id, candidate_uai, candidate_id in suspected:
                await repo.add_review(conn, export.uaj, eleve_id, candidate_uai, candidate_id,
                                      "même nom, prénom et date de naissance, INE différent ou absent")
            return await self._finish(conn, report, run_id, export, request, started, Status.applied)

    def _safety_valve(self, held: Snapshot, diff: Difference) -> str | None:
        """A run removing too many pupils stops before applying."""
        if not held.eleves:
            return None
        share = diff.removed_pupils / len(held.eleves)
        if share > self.settings.max_removed_share:
            return (f"arrêt de sécurité : cet import ferait partir {diff.removed_pupils} élèves sur "
                    f"{len(held.eleves)} ({share:.0%}, plus de {self.settings.max_removed_share:.0%}) ; "
                    "vérifiez l'export, ou relancez avec « forcer »")
        return None

    async def _continuity(self, conn: Any, uai: str, academy: str, held: Snapshot,
                          new: Snapshot) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        """Arriving pupils known elsewhere in the academy: certain by INE; suspected by name and birth date."""
        arriving = [e for eleve_id, e in new.eleves.items() if eleve_id not in held.eleves]
        by_ine = await repo.certain_origins(conn, uai, academy, [e.ine for e in arriving if e.ine])
        certain = {e.eleve_id: by_ine[e.ine] for e in arriving if e.ine and e.ine in by_ine}
        uncertain = [eleve for eleve in arriving if eleve.eleve_id not in certain]
        return certain, await repo.possible_origins(conn, uai, academy, uncertain)

    async def _apply(self, conn: Any, export: SiecleExport, held: Snapshot, new: Snapshot, diff: Difference,
                     run_id: uuid.UUID) -> None:
        uai = export.uaj
        await repo.store_snapshot(conn, uai, new)
        await repo.record_departures(conn, uai, [held.eleves[i] for i in held.eleves.keys() - new.eleves.keys()])
        applied = ImportApplied(uai=uai, run_id=run_id, annee_scolaire=export.annee_scolaire, changes=diff.counts())
        await enqueue_many(conn, SYNC_EVENTS, [(uai, Envelope.wrap(c, uai=uai)) for c in [*diff.changes, applied]])
        await repo.mark_applied(conn, uai, export.annee_scolaire, export.headers[0].horodatage, run_id)
        log.info("import applied", extra={"uai": uai, "run_id": str(run_id), "changes": len(diff.changes)})

    async def _finish(self, conn: Any, report: dict[str, Any], run_id: uuid.UUID, export: SiecleExport,
                      request: ImportRequest, started: datetime, status: str) -> dict[str, Any]:
        report["status"] = status
        await repo.save_run(conn, run_id, export.uaj, status, request.dry_run, request.force, export.annee_scolaire,
                            export.headers[0].horodatage, report, request.actor, started)
        return report

    async def _refused(self, report: dict[str, Any], run_id: uuid.UUID, export: SiecleExport | None,
                       request: ImportRequest, started: datetime, errors: list[dict[str, Any]], reason: str | None,
                       conn: Any = None) -> dict[str, Any]:
        """Keep the refused run's report; the transaction that read the state (if any) changes nothing else."""
        report.update(status=Status.refused, erreurs=errors, motif=reason)
        uai = export.uaj if export else None
        args = (run_id, uai, Status.refused, request.dry_run, request.force,
                export.annee_scolaire if export else None, export.headers[0].horodatage if export else None,
                report, request.actor, started)
        if conn is not None:
            await repo.save_run(conn, *args)
        else:
            async with self.db.transaction() as own:
                await repo.save_run(own, *args)
        log.warning("import refused", extra={"uai": uai, "run_id": str(run_id), "reason": reason,
                                             "errors": len(errors)})
        return report


def _problem(problem: Any) -> dict[str, Any]:
    return {"gravite": problem.severity.value, "fichier": problem.file, "element": problem.path,
            "identifiant": problem.siecle_id, "champ": problem.field, "message": problem.message}


def _file_error(exc: SiecleFileError) -> dict[str, Any]:
    return {"gravite": "erreur", "fichier": exc.file, "element": f"ligne {exc.line}" if exc.line else None,
            "identifiant": None, "champ": None, "message": exc.message}


def _describe(change: Any) -> dict[str, Any]:
    """A change as the dry run lists it (ids only: the report may be shown or stored)."""
    data = change.model_dump(mode="json", include={"eleve_id", "personne_id", "niveau_responsabilite",
                                                   "continuity_from"})
    if isinstance(change, EleveArrived) or hasattr(change, "eleve"):
        data["eleve_id"] = change.eleve.eleve_id
    if hasattr(change, "personne"):
        data["personne_id"] = change.personne.personne_id
    return {"type": type(change).__name__, **data}
