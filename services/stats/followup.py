"""Beyond the legacy: accesses to the services (§5.3), the activation funnel, expiring accounts, campaigns."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg

from teleservices.accounts.domain.catalogue import NATIONAL_SERVICES_BY_CODE, Categorie
from teleservices.stats.domain.tables import (
    DIVISION,
    SANS_DIVISION,
    SOMME,
    Cell,
    Column,
    Synthesis,
    Table,
    count,
    division_order,
    mef_label,
    mef_order,
    percent,
    ratio,
    text,
)

ACCESS_SQL = """
SELECT to_char(x.month, 'YYYY-MM') AS mois, x.service, coalesce(a.population, '') AS population,
       sum(x.count)::int AS acces
FROM accesses x LEFT JOIN accounts a USING (account_id) WHERE x.uai = $1 GROUP BY 1, 2, 3
"""
ACCESS_BY_MEF_SQL = """
SELECT m.mef, m.libelle, coalesce(a.population, '') AS population, sum(x.count)::int AS acces
FROM accesses x LEFT JOIN accounts a USING (account_id)
LEFT JOIN LATERAL (SELECT coalesce(e.code_mef, '') AS mef, max(e.libelle_mef) AS libelle
                   FROM rattachements r JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id AND e.present
                   WHERE r.account_id = x.account_id AND r.uai = x.uai AND r.attached GROUP BY 1) m ON true
WHERE x.uai = $1 GROUP BY 1, 2, 3
"""
FUNNEL_SQL = """
WITH p AS (SELECT eleve_id, coalesce(division, '') AS division FROM eleves WHERE uai = $1 AND present),
l AS (SELECT p.division, r.population, r.account_id, coalesce(r.state, 'Non notifié') AS state
      FROM p JOIN rattachements r ON r.uai = $1 AND r.eleve_id = p.eleve_id AND r.attached)
SELECT population, division, GROUPING(division) AS g, count(DISTINCT account_id) AS comptes,
       count(DISTINCT account_id) FILTER (WHERE state = 'Non notifié') AS non_notifies,
       count(DISTINCT account_id) FILTER (WHERE state = 'Notifié') AS notifies,
       count(DISTINCT account_id) FILTER (WHERE state = 'En cours d''activation') AS en_cours,
       count(DISTINCT account_id) FILTER (WHERE state = 'Utilisé') AS utilises
FROM l GROUP BY GROUPING SETS ((population, division), (population))
"""
EXPIRING_SQL = """
WITH p AS (SELECT eleve_id, coalesce(division, '') AS division FROM eleves WHERE uai = $1 AND present),
l AS (SELECT DISTINCT p.division, r.population, a.account_id,
             CASE WHEN a.state IN ('Notifié', 'En cours d''activation') THEN a.notified_at + $2
                  WHEN a.state = 'Utilisé' THEN coalesce(a.last_access_at, a.notified_at) + $3 END AS expires
      FROM p JOIN rattachements r ON r.uai = $1 AND r.eleve_id = p.eleve_id AND r.attached
      JOIN accounts a USING (account_id))
SELECT division, GROUPING(division) AS g,
       count(DISTINCT account_id) FILTER (WHERE population = 'eleve') AS eleves,
       count(DISTINCT account_id) FILTER (WHERE population = 'responsable') AS responsables,
       min(expires) AS premiere
FROM l WHERE expires < $4 GROUP BY GROUPING SETS ((division), ())
"""
CAMPAIGNS_SQL = """
SELECT l.campaign_id, min(l.launched_at) AS launched, count(*) AS courriers,
       count(*) FILTER (WHERE d.delivered) AS envoyes, count(*) FILTER (WHERE NOT d.delivered) AS echecs,
       count(*) FILTER (WHERE d.notification_id IS NULL) AS en_attente
FROM letters l LEFT JOIN deliveries d USING (notification_id) WHERE l.uai = $1
GROUP BY l.campaign_id ORDER BY launched DESC, l.campaign_id
"""
OUTSIDE_CAMPAIGNS_SQL = """
SELECT count(*) AS courriers, count(*) FILTER (WHERE d.delivered) AS envoyes,
       count(*) FILTER (WHERE NOT d.delivered) AS echecs
FROM deliveries d WHERE d.uai = $1 AND NOT EXISTS (SELECT 1 FROM letters l WHERE l.notification_id = d.notification_id)
"""
REASONS_SQL = """
SELECT l.campaign_id::text AS campaign, d.reason, count(*) AS echecs
FROM deliveries d LEFT JOIN letters l USING (notification_id)
WHERE coalesce(l.uai, d.uai) = $1 AND NOT d.delivered GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 3 DESC, 2
"""
HORS_CAMPAGNE = "Hors campagne"
POPULATIONS = {"eleve": "Comptes élèves", "responsable": "Comptes responsables"}


def _access_columns(first: str, label: str) -> list[Column]:
    return [text(first, label), count("eleves", "Accès des élèves"), count("responsables", "Accès des responsables"),
            count("total", "Total")]


def categorie(service: str) -> str:
    """The statistics category of a service code (the academy's own services are counted together)."""
    national = NATIONAL_SERVICES_BY_CODE.get(service)
    return national.categorie.value if national else Categorie.services_academiques.value


def _access_rows(counts: dict[str, dict[str, int]], key: str) -> list[dict[str, Cell]]:
    return [{key: name, "eleves": c.get("eleve", 0), "responsables": c.get("responsable", 0),
             "total": sum(c.values())} for name, c in counts.items()]


def _access_total(rows: list[dict[str, Cell]], key: str) -> dict[str, Cell]:
    return {key: SOMME, **{k: sum(int(r[k] or 0) for r in rows) for k in ("eleves", "responsables", "total")}}


async def acces(conn: asyncpg.Connection, uai: str) -> Synthesis:
    """Synthèse accès téléservices: accesses per month, per service category and per MEF."""
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    categories: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in await conn.fetch(ACCESS_SQL, uai):
        months[r["mois"]][r["population"]] += r["acces"]
        categories[categorie(r["service"])][r["population"]] += r["acces"]
    mefs: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in await conn.fetch(ACCESS_BY_MEF_SQL, uai):
        mefs[(r["mef"] or "", r["libelle"] or "")][r["population"]] += r["acces"]
    month_rows = _access_rows(dict(sorted(months.items())), "mois")
    category_rows = _access_rows(dict(sorted(categories.items())), "categorie")
    mef_rows = [{"mef": code or None, **_access_rows({mef_label(code, label): mefs[(code, label)]}, "libelle")[0]}
                for code, label in mef_order(mefs)]
    mef_columns = [text("mef", "Code MEF"), *_access_columns("libelle", "MEF")]
    return Synthesis(scope=uai, synthese="acces", title="Synthèse accès téléservices", tables=[
        Table(title="Accès par mois", section="mois", columns=_access_columns("mois", "Mois"), rows=month_rows,
              total=_access_total(month_rows, "mois")),
        Table(title="Accès par catégorie de service", section="categorie",
              columns=_access_columns("categorie", "Catégorie"), rows=category_rows,
              total=_access_total(category_rows, "categorie")),
        Table(title="Accès par MEF", section="mef", columns=mef_columns, rows=mef_rows),
    ])


FUNNEL_COLUMNS = [
    DIVISION, count("comptes", "Nombre de comptes"), count("non_notifies", "Non notifiés"),
    count("notifies", "Notifiés"), count("en_cours", "En cours d'activation"), count("utilises", "Utilisés"),
    percent("taux_notification", "% notifiés (ou au-delà)"),
    percent("taux_connexion", "% des notifiés s'étant connectés"),
    percent("taux_activation", "% des connectés ayant activé"),
    percent("taux_utilisation", "% utilisés"),
]


def funnel_figures(comptes: int, non_notifies: int, notifies: int, en_cours: int, utilises: int) -> dict[str, Cell]:
    """One line of the funnel: each stage counts the accounts that reached it, with conversion rates."""
    reached_notified, reached_connection = notifies + en_cours + utilises, en_cours + utilises
    return {"comptes": comptes, "non_notifies": non_notifies, "notifies": notifies, "en_cours": en_cours,
            "utilises": utilises, "taux_notification": ratio(reached_notified, comptes),
            "taux_connexion": ratio(reached_connection, reached_notified),
            "taux_activation": ratio(utilises, reached_connection), "taux_utilisation": ratio(utilises, comptes)}


async def activation(conn: asyncpg.Connection, uai: str) -> Synthesis:
    """The activation funnel per division: non notifié → notifié → en cours → utilisé, per population."""
    rows: dict[str, list[dict[str, Cell]]] = {p: [] for p in POPULATIONS}
    totals: dict[str, dict[str, Cell]] = {p: {"division": SOMME, **funnel_figures(0, 0, 0, 0, 0)} for p in POPULATIONS}
    for r in await conn.fetch(FUNNEL_SQL, uai):
        figures = funnel_figures(r["comptes"], r["non_notifies"], r["notifies"], r["en_cours"], r["utilises"])
        if r["g"] == 0:
            rows[r["population"]].append({"division": r["division"], **figures})
        else:
            totals[r["population"]] = {"division": SOMME, **figures}
    tables = []
    for population, title in POPULATIONS.items():
        ordered = sorted(rows[population], key=lambda row: division_order(str(row["division"])))
        for row in ordered:
            row["division"] = row["division"] or SANS_DIVISION
        tables.append(Table(title=title, section=population, columns=FUNNEL_COLUMNS, rows=ordered,
                            total=totals[population]))
    return Synthesis(scope=uai, synthese="activation", title="Activation des comptes par division", tables=tables)


EXPIRING_COLUMNS = [DIVISION, count("eleves", "Comptes élèves"), count("responsables", "Comptes responsables"),
                    text("premiere_echeance", "Première échéance")]


async def expiration(conn: asyncpg.Connection, uai: str, now: datetime, notified_delay: timedelta,
                     unused_delay: timedelta, within: timedelta) -> Synthesis:
    """Accounts due to expire before `now + within` (already overdue included: the next nightly run deletes them)."""
    rows: list[dict[str, Cell]] = []
    total: dict[str, Cell] = {"division": SOMME, "eleves": 0, "responsables": 0, "premiere_echeance": None}
    for r in await conn.fetch(EXPIRING_SQL, uai, notified_delay, unused_delay, now + within):
        line: dict[str, Cell] = {"division": r["division"] or SANS_DIVISION, "eleves": r["eleves"],
                                 "responsables": r["responsables"],
                                 "premiere_echeance": r["premiere"].date().isoformat() if r["premiere"] else None}
        if r["g"] == 0:
            rows.append(line)
        else:
            total = {**line, "division": SOMME}
    rows.sort(key=lambda row: division_order("" if row["division"] == SANS_DIVISION else str(row["division"])))
    title = f"Comptes qui expirent d'ici {within.days} jours"
    return Synthesis(scope=uai, synthese="expiration", title=title, tables=[
        Table(title=title, section="expiration", columns=EXPIRING_COLUMNS, rows=rows, total=total)])


CAMPAIGN_COLUMNS = [text("campagne", "Campagne"), text("lancee_le", "Lancée le"), count("courriers", "Courriers"),
                    count("envoyes", "Envoyés"), count("echecs", "En échec"), count("en_attente", "En attente"),
                    percent("taux_envoi", "% envoyés")]
REASON_COLUMNS = [text("campagne", "Campagne"), text("motif", "Motif"), count("echecs", "Nombre")]


async def campagnes(conn: asyncpg.Connection, uai: str) -> Synthesis:
    """Delivery results per campaign (sent, failed, pending), and the failures by reason."""
    rows: list[dict[str, Cell]] = [
        {"campagne": str(r["campaign_id"]), "lancee_le": r["launched"].isoformat(timespec="seconds"),
         "courriers": r["courriers"], "envoyes": r["envoyes"], "echecs": r["echecs"], "en_attente": r["en_attente"],
         "taux_envoi": ratio(r["envoyes"], r["courriers"])} for r in await conn.fetch(CAMPAIGNS_SQL, uai)]
    outside = await conn.fetchrow(OUTSIDE_CAMPAIGNS_SQL, uai)
    if outside["courriers"]:
        rows.append({"campagne": HORS_CAMPAGNE, "lancee_le": None, "courriers": outside["courriers"],
                     "envoyes": outside["envoyes"], "echecs": outside["echecs"], "en_attente": 0,
                     "taux_envoi": ratio(outside["envoyes"], outside["courriers"])})
    reasons: list[dict[str, Cell]] = [
        {"campagne": r["campaign"] or HORS_CAMPAGNE, "motif": r["reason"] or "motif inconnu", "echecs": r["echecs"]}
        for r in await conn.fetch(REASONS_SQL, uai)]
    return Synthesis(scope=uai, synthese="campagnes", title="Résultats des notifications par campagne", tables=[
        Table(title="Résultats par campagne", section="campagnes", columns=CAMPAIGN_COLUMNS, rows=rows),
        Table(title="Échecs par motif", section="motifs", columns=REASON_COLUMNS, rows=reasons)])
