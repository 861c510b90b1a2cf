"""« Éditer les listes des comptes élèves » (guide §4.3): per division or group, for distribution in class."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from teleservices.accounts import audit
from teleservices.accounts.domain.model import AccountState, ActionRefused
from teleservices.accounts.permissions import require_menu
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database
from teleservices.shared.security.sealing import unseal
from teleservices.shared.security.staff import Menu, StaffPrincipal

HIDDEN = "*****"
TO_NOTIFY = "Compte à notifier"
COLUMNS = ("Élève", "Division", "Groupe", "Date de naissance", "Identifiant du compte", "Mot de passe provisoire",
           "Date de notification", "État du compte", "Dernier accès au compte")


@dataclass
class ClassLists:
    """Pupils' identifiers and temporary passwords, alphabetically, for one division or group."""

    db: Database
    settings: AccountsSettings

    async def rows(self, staff: StaffPrincipal, uai: str, division: str | None, groupe: str | None) -> dict[str, Any]:
        """The list (audited: it shows temporary passwords)."""
        require_menu(staff, Menu.acces_eleves)
        if bool(division) == bool(groupe):
            raise ActionRefused("division", "choisir une division ou un groupe")
        key = self.settings.secrets.at_rest_key.get_secret_value()
        async with self.db.transaction() as conn:
            rows = await conn.fetch(
                "SELECT a.id, a.identifiant, a.state, a.notified_at, a.last_access_at, a.sealed_temp_password,"
                " e.nom, e.prenom, e.division, e.groupes, e.date_naissance FROM rattachements r"
                " JOIN accounts a ON a.id = r.account_id JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id"
                " WHERE r.uai = $1 AND r.population = 'eleve' AND r.detached_at IS NULL AND a.closed_at IS NULL"
                " AND ($2::text IS NULL OR e.division = $2) AND ($3::text IS NULL OR $3 = ANY(e.groupes))"
                " ORDER BY e.nom, e.prenom", uai, division, groupe)
            await audit.record(conn, staff, "editer_liste_eleves", uai, division=division, groupe=groupe,
                               pupils=len(rows))
        lines = []
        for row in rows:
            state = AccountState(row["state"])
            not_notified = state is AccountState.non_notifie
            password = (unseal(key, row["sealed_temp_password"], str(row["id"]))
                        if state is AccountState.notifie and row["sealed_temp_password"] else None)
            lines.append({
                "Élève": f"{row['nom']} {row['prenom']}", "Division": row["division"] or "",
                "Groupe": groupe or "", "Date de naissance": _date(row["date_naissance"]),
                "Identifiant du compte": TO_NOTIFY if not_notified else row["identifiant"],
                "Mot de passe provisoire": "" if not_notified else (password or HIDDEN),
                "Date de notification": _date(row["notified_at"]), "État du compte": state.value,
                "Dernier accès au compte": _date(row["last_access_at"])})
        return {"lines": lines, "summary": f"{len(lines)} élève(s) sélectionné(s)"}

    @staticmethod
    def csv(lines: list[dict[str, str]]) -> str:
        """The list as CSV (semicolons, as French spreadsheets expect)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(lines)
        return out.getvalue()


_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def class_list_pdf(lines: list[dict[str, str]], establishment: str, selection: str, summary: str) -> bytes:
    """The list as a tagged A4 PDF, alphabetical, header repeated on each page (rendered in a worker thread)."""
    import weasyprint  # imported where used: heavy, and only this function needs it

    title = f"Liste des comptes élèves — {selection}"
    html = _templates.get_template("class_list.html").render(
        title=title, establishment=establishment, summary=summary, columns=COLUMNS, lines=lines,
        today=date.today().strftime("%d/%m/%Y"))
    pdf: bytes = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    return pdf


def _date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value else ""
