"""The breach report (RGPD art. 33) across services: the accounts audit trail and the notifier's letter downloads."""

from __future__ import annotations

from typing import Any

from teleservices.shared.privacy.access import Fetch, ServiceRefused


async def gather_breach(fetch: Fetch, criteria: dict[str, str]) -> dict[str, Any]:
    """Who and what a staff member or a time window touched: audited actions, and division letters downloaded.

    A notifier that cannot answer does not hide the rest: the report says what could not be checked.
    """
    warnings: list[str] = []
    try:
        status, downloads = await fetch("notifier", "/api/v1/privacy/downloads", criteria)
    except OSError:
        status, downloads = 0, None
    if status >= 400 and status != 0:
        raise ServiceRefused("notifier", status, downloads.get("detail") if isinstance(downloads, dict) else downloads)
    if status == 0:
        warnings.append("service de notification injoignable : les téléchargements de courriers PDF n'ont pas été "
                        "vérifiés")
        downloads = []
    letters = sorted({f"{d['campaign_id']}/{d['division']}" for d in downloads})
    status, report = await fetch("accounts", "/api/v1/audit/breach-report", {**criteria, "courrier": letters})
    if status >= 400:
        raise ServiceRefused("accounts", status, report.get("detail") if isinstance(report, dict) else report)
    if downloads:
        report["enregistrements"]["telecharger_courriers_pdf"] = len(downloads)
        report["etablissements"] = sorted(set(report["etablissements"]) | {d["uai"] for d in downloads})
    report["telechargements"] = downloads
    report["avertissements"] = warnings
    return dict(report)
