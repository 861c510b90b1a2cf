"""Right of access (RGPD art. 15): one document with what every service holds about a person, as JSON and PDF."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape
from pydantic_settings import BaseSettings, SettingsConfigDict

from teleservices.shared.privacy.retention import RetentionFigures

TITLE = "Données détenues sur une personne — droit d'accès (article 15 du RGPD)"
SECTIONS = {"comptes": "Comptes et accès aux téléservices (service des comptes)",
            "imports_siecle": "Données reçues de SIECLE (service d'import)",
            "notifications": "Courriels et courriers envoyés (service de notification)"}


class PeerUrls(BaseSettings):
    """Where the other services answer (TELESERVICES_SYNC_URL, TELESERVICES_NOTIFIER_URL), as for the CLI."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_", extra="ignore")

    sync_url: str | None = None
    notifier_url: str | None = None

    def url(self, service: str) -> str | None:
        """The base URL of a service, without a trailing slash (None: not configured)."""
        value: str | None = getattr(self, f"{service}_url", None)
        return value.rstrip("/") if value else None


Fetch = Callable[[str, str, dict[str, Any]], Awaitable[tuple[int, Any]]]
"""GET a service's route as staff: (service, path, query) → (HTTP status, decoded JSON body)."""


class ServiceRefused(Exception):
    """A service answered the access request with an error other than "nothing held"."""

    def __init__(self, service: str, status: int, detail: Any):
        super().__init__(f"{service}: {status} {detail}")
        self.service, self.status, self.detail = service, status, detail


async def _part(fetch: Fetch, service: str, path: str, params: dict[str, Any]) -> Any:
    status, body = await fetch(service, path, params)
    if status == 404 and "Aucune donnée" in str(body):
        return None
    if status >= 400:
        raise ServiceRefused(service, status, body.get("detail", body) if isinstance(body, dict) else body)
    return body


async def gather(fetch: Fetch, uai: str, siecle_id: str) -> dict[str, Any] | None:
    """Ask accounts, sync and notifier what each holds on the person (None: nothing anywhere).

    The staff gateway and the command line share it, each with its own way of calling the services.
    """
    person = f"/api/v1/privacy/establishments/{uai}/persons/{siecle_id}"
    accounts = await _part(fetch, "accounts", person, {})
    sync = await _part(fetch, "sync", person, {})
    notifier = None
    if accounts and accounts["comptes"]:
        letters = {(c["campaign_id"], c["division"]) for c in accounts["campagnes"]}
        notifier = await _part(fetch, "notifier", f"/api/v1/privacy/establishments/{uai}/accounts", {
            "compte": [c["id"] for c in accounts["comptes"]], "campagne": sorted({c for c, _ in letters})})
        if notifier:  # only the division PDFs that hold the person's letters
            notifier["courriers_pdf"] = [d for d in notifier["courriers_pdf"]
                                         if (d["campaign_id"], d["division"]) in letters]
    if accounts is None and sync is None:
        return None
    return {"comptes": accounts, "imports_siecle": sync, "notifications": notifier}


LABELS = {
    "eleve": "Élève", "personne": "Personne", "liens": "Liens avec les élèves", "comptes": "Comptes",
    "rattachements": "Rattachements", "historique": "Historique des états", "notifications": "Notifications",
    "campagnes": "Notifications en masse", "remplacements": "Remplacements de compte",
    "journal": "Actions du personnel sur ces comptes", "depart": "Départ", "examens_de_continuite": "Continuité",
    "envois": "Envois", "courriers_pdf": "Courriers PDF conservés", "uai": "Établissement",
    "eleve_id": "Identifiant SIECLE de l'élève", "personne_id": "Identifiant SIECLE de la personne",
    "ine": "INE", "nom": "Nom", "prenom": "Prénom", "civilite": "Civilité", "email": "Courriel",
    "date_naissance": "Date de naissance", "division": "Division", "groupes": "Groupes",
    "code_mef": "Formation (MEF)", "libelle_mef": "Libellé de la formation", "code_regime": "Régime",
    "address_lines": "Adresse", "telephones": "Téléphones", "niveau_responsabilite": "Niveau de responsabilité",
    "niveau": "Niveau de responsabilité", "identifiant": "Identifiant", "state": "État", "population": "Population",
    "email_validated": "Courriel validé", "notified_at": "Notifié le", "notification_channel": "Canal de notification",
    "last_access_at": "Dernière connexion", "continuity": "Continuité", "closed_at": "Fermé le",
    "created_at": "Créé le", "mot_de_passe_provisoire": "Mot de passe provisoire", "account_id": "Compte",
    "detached_at": "Détaché le", "previous_state": "État précédent", "cause": "Cause", "actor": "Par",
    "at": "Le", "channel": "Canal", "variant": "Courrier", "status": "Statut", "reason": "Motif",
    "requested_at": "Demandé le", "settled_at": "Réglé le", "campaign_id": "Campagne",
    "notification_id": "Notification", "actor_id": "Membre du personnel", "actor_name": "Nom du membre du personnel",
    "actor_role": "Rôle", "action": "Action", "details": "Détails", "seq": "N° dans le journal",
    "data": "Données reçues", "left_at": "Parti le", "message_id": "Message-ID",
}


def assemble(uai: str, siecle_id: str, parts: dict[str, Any], retention: RetentionFigures) -> dict[str, Any]:
    """The export: each service's answer, the rights of the person and how to exercise them."""
    return {
        "titre": TITLE,
        "etablissement": uai,
        "identifiant_siecle": siecle_id,
        "etabli_le": datetime.now(UTC).isoformat(timespec="seconds"),
        "donnees": {key: parts.get(key) for key in SECTIONS},
        "vos_droits": {
            "acces": "Ce document répond à la demande d'accès ; il est remis dans le mois qui suit la demande.",
            "rectification": "Les données viennent de SIECLE, la base élèves de l'établissement : une donnée inexacte "
                             "se corrige auprès du secrétariat de l'établissement, et l'import suivant la corrige "
                             "partout.",
            "effacement": f"Les données d'un élève parti, ou d'une personne qui n'a plus d'élève dans "
                          f"l'établissement, sont effacées de tous les services {retention.departure_purge_days} "
                          f"jours après l'import qui constate le départ ; un compte notifié mais jamais activé est "
                          f"supprimé {retention.notified_expiry_days} jours après sa notification, un compte inutilisé "
                          f"après {retention.unused_expiry_days} jours sans connexion.",
            "reclamation": "Le chef d'établissement est le responsable du traitement ; une réclamation peut être "
                           "adressée à la CNIL (www.cnil.fr).",
        },
    }


def as_json(document: dict[str, Any]) -> str:
    """The export as indented JSON (dates as ISO 8601)."""
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def _html(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "<p>—</p>"
        rows = "".join(f'<tr><th scope="row">{escape(LABELS.get(k, k))}</th><td>{_html(v)}</td></tr>'
                       for k, v in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if not value:
            return "aucun"
        if all(isinstance(v, dict) for v in value):
            return "".join(f"<div class='item'>{_html(v)}</div>" for v in value)
        return ", ".join(_html(v) for v in value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return "—" if value is None else str(escape(str(value)))


def access_pdf(document: dict[str, Any]) -> bytes:
    """The export as a readable, tagged PDF (PDF/UA, French, titled)."""
    import weasyprint  # heavy: imported where used

    sections = "".join(f"<section><h2>{escape(SECTIONS[k])}</h2>{_html(v)}</section>"
                       for k, v in document["donnees"].items())
    rights = "".join(f"<p>{escape(text)}</p>" for text in document["vos_droits"].values())
    html = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{escape(TITLE)}</title><style>
      @page {{ size: A4; margin: 16mm; }} body {{ font-family: sans-serif; font-size: 9pt; }}
      h1 {{ font-size: 14pt; }} h2 {{ font-size: 11.5pt; margin-top: 1.2em; }}
      table {{ border-collapse: collapse; width: 100%; margin: 2pt 0; }}
      th, td {{ border: 1px solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }}
      th {{ width: 28%; font-weight: normal; background: #f0f0f0; }} .item {{ margin-bottom: 5pt; }}
      td {{ overflow-wrap: anywhere; }}
    </style></head><body><main><h1>{escape(TITLE)}</h1>
    <p>Établissement {escape(document["etablissement"])} — identifiant SIECLE
    {escape(document["identifiant_siecle"])} — établi le {escape(document["etabli_le"])}.</p>
    {sections}<section><h2>Vos droits</h2>{rights}</section></main></body></html>"""
    pdf: bytes = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    return pdf
