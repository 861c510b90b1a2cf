"""The guide's syntheses (§5.1, §5.2) and the academy view, counted from the read models in SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import asyncpg

from teleservices.stats.domain.tables import (
    ELEVES_COLUMNS,
    RESPONSABLES_COLUMNS,
    Cell,
    Column,
    Synthesis,
    Table,
    by_structure,
    count,
    eleves_figures,
    percent,
    ratio,
    responsables_figures,
    sort_rows,
    text,
)

NON_NOTIFIE, NOTIFIE, EN_COURS, UTILISE = "Non notifié", "Notifié", "En cours d'activation", "Utilisé"
NOTIFIES = "('Notifié', 'En cours d''activation')"

OWN_ACCOUNTS = (  # each pupil's own account (the newest attachment, should two ever overlap)
    "SELECT DISTINCT ON (r.uai, r.eleve_id) r.uai, r.eleve_id, coalesce(r.state, 'Non notifié') AS state"
    " FROM rattachements r WHERE r.population = 'eleve' AND r.attached AND {where}"
    " ORDER BY r.uai, r.eleve_id, r.version DESC")

PUPILS_SQL = """
SELECT eleve_id, coalesce(code_mef, '') AS mef, libelle_mef, coalesce(division, '') AS division
FROM eleves WHERE uai = $1 AND present
"""
# Attachments carry their account's state (projection.copy_states): one table read, no join.
OWN_STATES_SQL = """
SELECT DISTINCT ON (eleve_id) eleve_id, state FROM rattachements
WHERE uai = $1 AND population = 'eleve' AND attached ORDER BY eleve_id, version DESC
"""
REPRESENTATIVES_SQL = """
SELECT eleve_id, account_id, state, since FROM rattachements WHERE uai = $1 AND population = 'responsable' AND attached
"""

FIGURES_SQL = f"""
WITH est AS (SELECT unnest($1::text[]) AS uai),
p AS (SELECT e.uai, e.eleve_id FROM eleves e JOIN est USING (uai) WHERE e.present),
own AS ({OWN_ACCOUNTS.format(where="r.uai IN (SELECT uai FROM est)")}),
ec AS (SELECT p.uai, count(*) AS eleves,
              count(*) FILTER (WHERE own.state = '{NON_NOTIFIE}') AS non_notifies,
              count(*) FILTER (WHERE own.state IN {NOTIFIES}) AS notifies,
              count(*) FILTER (WHERE own.state = '{UTILISE}') AS utilises
       FROM p LEFT JOIN own USING (uai, eleve_id) GROUP BY p.uai),
l AS (SELECT DISTINCT p.uai, p.eleve_id, r.account_id, coalesce(r.state, 'Non notifié') AS state
      FROM p JOIN rattachements r ON r.uai = p.uai AND r.eleve_id = p.eleve_id AND r.population = 'responsable'
                                  AND r.attached),
rc AS (SELECT uai, count(DISTINCT account_id) AS comptes,
              count(DISTINCT account_id) FILTER (WHERE state = '{NON_NOTIFIE}') AS r_non_notifies,
              count(DISTINCT account_id) FILTER (WHERE state IN {NOTIFIES}) AS r_notifies,
              count(DISTINCT account_id) FILTER (WHERE state = '{UTILISE}') AS r_utilises,
              count(DISTINCT eleve_id) FILTER (WHERE state = '{UTILISE}') AS eleves_resp_utilise
       FROM l GROUP BY uai)
SELECT est.uai, coalesce(ec.eleves, 0) AS eleves, coalesce(ec.non_notifies, 0) AS non_notifies,
       coalesce(ec.notifies, 0) AS notifies, coalesce(ec.utilises, 0) AS utilises,
       coalesce(rc.comptes, 0) AS comptes, coalesce(rc.r_non_notifies, 0) AS r_non_notifies,
       coalesce(rc.r_notifies, 0) AS r_notifies, coalesce(rc.r_utilises, 0) AS r_utilises,
       coalesce(rc.eleves_resp_utilise, 0) AS eleves_resp_utilise
FROM est LEFT JOIN ec USING (uai) LEFT JOIN rc USING (uai)
"""
"""Each establishment's line of the academy view (kept in `figures`, recomputed when marked dirty)."""

ACADEMY_SQL = """
SELECT e.uai, e.name, coalesce(f.eleves, 0) AS eleves, coalesce(f.non_notifies, 0) AS non_notifies,
       coalesce(f.notifies, 0) AS notifies, coalesce(f.utilises, 0) AS utilises, coalesce(f.comptes, 0) AS comptes,
       coalesce(f.r_non_notifies, 0) AS r_non_notifies, coalesce(f.r_notifies, 0) AS r_notifies,
       coalesce(f.r_utilises, 0) AS r_utilises, coalesce(f.eleves_resp_utilise, 0) AS eleves_resp_utilise
FROM establishments e LEFT JOIN figures f USING (uai) WHERE e.academy = $1
"""

ACADEMY_COLUMNS = [
    text("uai", "UAI"), text("etablissement", "Établissement"),
    count("eleves", "Nombre d'élèves"),
    count("non_notifies", "Comptes élèves non notifiés"), count("notifies", "Comptes élèves notifiés"),
    count("utilises", "Comptes élèves utilisés"),
    percent("pct_eleves_utilises", "% d'élèves avec comptes utilisés"),
    count("comptes", "Nombre de comptes responsables"),
    count("r_non_notifies", "Comptes responsables non notifiés"),
    count("r_notifies", "Comptes responsables notifiés ou en cours d'activation"),
    count("r_utilises", "Comptes responsables utilisés"),
    percent("pct_comptes_utilises", "% de comptes resp. avec un compte utilisé"),
    percent("pct_eleves_resp_utilise", "% élèves ayant au moins un resp. avec un compte utilisé"),
    percent("taux_activation", "Taux d'activation"),
]
ACADEMY_SORT_KEYS = tuple(c.key for c in ACADEMY_COLUMNS)
ACADEMY_COUNTS = ("eleves", "non_notifies", "notifies", "utilises", "comptes", "r_non_notifies", "r_notifies",
                  "r_utilises", "eleves_resp_utilise")


def school_year_start(annee_scolaire: int | None, start_month: int, now: datetime) -> datetime:
    """The start of the establishment's current school year (of `now` when no import told it)."""
    if annee_scolaire is None:
        annee_scolaire = now.year if now.month >= start_month else now.year - 1
    return datetime(annee_scolaire, start_month, 1, tzinfo=UTC)


Level = tuple[str | None, str | None]
"""(MEF, division) of a per-structure row, (MEF, None) of a MEF's "Somme :" row, (None, None) of the establishment."""


async def _levels(conn: asyncpg.Connection, uai: str) -> tuple[dict[Level, list[str]], dict[str, str]]:
    """The present pupils at each level, and each MEF's label."""
    levels: dict[Level, list[str]] = defaultdict(list, {(None, None): []})
    labels: dict[str, str] = {}
    for r in await conn.fetch(PUPILS_SQL, uai):
        labels[r["mef"]] = max(labels.get(r["mef"], ""), r["libelle_mef"] or "")
        for level in ((r["mef"], r["division"]), (r["mef"], None), (None, None)):
            levels[level].append(r["eleve_id"])
    return levels, labels


def _tables(levels: dict[Level, dict[str, Cell]], labels: dict[str, str], columns: list[Column],
            title: str) -> list[Table]:
    sections: dict[tuple[str, str], list[dict[str, Cell]]] = defaultdict(list)
    for (mef, division), figures in levels.items():
        if mef is not None and division is not None:
            sections[(mef, labels[mef])].append({"division": division, **figures})
    totals = {mef: figures for (mef, division), figures in levels.items() if mef is not None and division is None}
    return [Table(title=title, section="etablissement", columns=columns, rows=[levels[(None, None)]]),
            *by_structure(sections, totals, columns)]


async def eleves(conn: asyncpg.Connection, uai: str) -> Synthesis:
    """Synthèse comptes élèves: the establishment, then per MEF and division with "Somme :" rows."""
    levels, labels = await _levels(conn, uai)
    own = {r["eleve_id"]: r["state"] or NON_NOTIFIE for r in await conn.fetch(OWN_STATES_SQL, uai)}
    figures: dict[Level, dict[str, Cell]] = {}
    for level, pupils in levels.items():
        states = [own[e] for e in pupils if e in own]
        figures[level] = eleves_figures(len(pupils), states.count(NON_NOTIFIE),
                                        states.count(NOTIFIE) + states.count(EN_COURS), states.count(UTILISE))
    return Synthesis(scope=uai, synthese="eleves", title="Synthèse comptes élèves", tables=_tables(
        figures, labels, ELEVES_COLUMNS, "Synthèse des comptes élèves de l'établissement"))


async def responsables(conn: asyncpg.Connection, uai: str, year_start: datetime) -> Synthesis:
    """Synthèse comptes responsables: a grouped account counts once per line, each of its pupils counts."""
    levels, labels = await _levels(conn, uai)
    links: dict[str, list[tuple[object, str, bool]]] = defaultdict(list)
    for r in await conn.fetch(REPRESENTATIVES_SQL, uai):
        since = r["since"]
        links[r["eleve_id"]].append((r["account_id"], r["state"] or NON_NOTIFIE,
                                     since is not None and since >= year_start))
    figures: dict[Level, dict[str, Cell]] = {}
    for level, pupils in levels.items():
        accounts: dict[object, tuple[str, bool]] = {}
        with_used = 0
        for eleve_id in pupils:
            mine = links.get(eleve_id, ())
            for account_id, state, this_year in mine:
                accounts[account_id] = (state, this_year)
            with_used += any(state == UTILISE for _, state, _ in mine)
        states = list(accounts.values())
        figures[level] = responsables_figures(
            len(pupils), len(states), sum(s == NON_NOTIFIE for s, _ in states),
            sum(s in (NOTIFIE, EN_COURS) for s, _ in states),
            sum(s in (NOTIFIE, EN_COURS) and this_year for s, this_year in states),
            sum(s == UTILISE for s, _ in states), with_used)
    return Synthesis(scope=uai, synthese="responsables", title="Synthèse comptes responsables", tables=_tables(
        figures, labels, RESPONSABLES_COLUMNS, "Synthèse des comptes responsables de l'établissement"))


async def academy(conn: asyncpg.Connection, code: str, sort: str = "taux_activation",
                  descending: bool = False) -> Synthesis:
    """Every establishment of the academy with its activation figures, sortable; the academy's total last."""
    rows: list[dict[str, Cell]] = []
    total = dict.fromkeys(ACADEMY_COUNTS, 0)
    for r in await conn.fetch(ACADEMY_SQL, code):
        rows.append({"uai": r["uai"], "etablissement": r["name"] or r["uai"], **_academy_figures(r)})
        for key in ACADEMY_COUNTS:
            total[key] += r[key]
    table = Table(title=f"Établissements de l'académie {code}", section="academie", columns=ACADEMY_COLUMNS,
                  rows=sort_rows(rows, sort, descending),
                  total={"uai": None, "etablissement": "Académie", **_academy_figures(total)})
    return Synthesis(scope=code, synthese="academie", title="Vue académique", tables=[table])


def _academy_figures(r: Any) -> dict[str, Cell]:
    figures: dict[str, Cell] = {key: r[key] for key in ACADEMY_COUNTS if key != "eleves_resp_utilise"}
    accounts = r["eleves"] and (r["non_notifies"] + r["notifies"] + r["utilises"])
    return {**figures, "pct_eleves_utilises": ratio(r["utilises"], r["eleves"]),
            "pct_comptes_utilises": ratio(r["r_utilises"], r["comptes"]),
            "pct_eleves_resp_utilise": ratio(r["eleves_resp_utilise"], r["eleves"]),
            "taux_activation": ratio(r["utilises"] + r["r_utilises"], (accounts or 0) + r["comptes"])}
