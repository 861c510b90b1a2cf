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

ELEVES_SQL = f"""
WITH own AS ({OWN_ACCOUNTS.format(where="r.uai = $1")})
SELECT coalesce(e.code_mef, '') AS mef, max(e.libelle_mef) AS libelle, coalesce(e.division, '') AS division,
       GROUPING(coalesce(e.code_mef, ''), coalesce(e.division, '')) AS g, count(*) AS eleves,
       count(*) FILTER (WHERE own.state = '{NON_NOTIFIE}') AS non_notifies,
       count(*) FILTER (WHERE own.state IN {NOTIFIES}) AS notifies,
       count(*) FILTER (WHERE own.state = '{UTILISE}') AS utilises
FROM eleves e LEFT JOIN own ON own.eleve_id = e.eleve_id
WHERE e.uai = $1 AND e.present
GROUP BY GROUPING SETS ((coalesce(e.code_mef, ''), coalesce(e.division, '')), (coalesce(e.code_mef, '')), ())
"""

# Attachments carry their account's state (projection.copy_states): no join with the academy's accounts.
RESPONSABLES_SQL = f"""
WITH p AS (SELECT eleve_id, coalesce(code_mef, '') AS mef, libelle_mef, coalesce(division, '') AS division
           FROM eleves WHERE uai = $1 AND present),
l AS (SELECT p.mef, p.division, p.eleve_id, r.account_id, coalesce(r.state, 'Non notifié') AS state,
             coalesce(r.since >= $2, false) AS this_year
      FROM p JOIN rattachements r ON r.uai = $1 AND r.eleve_id = p.eleve_id AND r.population = 'responsable'
                                  AND r.attached),
pc AS (SELECT mef, division, GROUPING(mef, division) AS g, count(*) AS eleves, max(libelle_mef) AS libelle
       FROM p GROUP BY GROUPING SETS ((mef, division), (mef), ())),
lc AS (SELECT mef, division, GROUPING(mef, division) AS g,
              count(DISTINCT account_id) AS comptes,
              count(DISTINCT account_id) FILTER (WHERE state = '{NON_NOTIFIE}') AS non_notifies,
              count(DISTINCT account_id) FILTER (WHERE state IN {NOTIFIES}) AS notifies,
              count(DISTINCT account_id) FILTER (WHERE state IN {NOTIFIES} AND this_year) AS notifies_annee,
              count(DISTINCT account_id) FILTER (WHERE state = '{UTILISE}') AS utilises,
              count(DISTINCT eleve_id) FILTER (WHERE state = '{UTILISE}') AS eleves_resp_utilise
       FROM l GROUP BY GROUPING SETS ((mef, division), (mef), ()))
SELECT pc.g, pc.mef, pc.division, pc.libelle, pc.eleves, coalesce(lc.comptes, 0) AS comptes,
       coalesce(lc.non_notifies, 0) AS non_notifies, coalesce(lc.notifies, 0) AS notifies,
       coalesce(lc.notifies_annee, 0) AS notifies_annee, coalesce(lc.utilises, 0) AS utilises,
       coalesce(lc.eleves_resp_utilise, 0) AS eleves_resp_utilise
FROM pc LEFT JOIN lc ON lc.g = pc.g AND lc.mef IS NOT DISTINCT FROM pc.mef
                     AND lc.division IS NOT DISTINCT FROM pc.division
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


def _level(row: asyncpg.Record) -> Level:
    """A grouping-sets row's level: GROUPING is 0 for a division, 1 for its MEF, 3 for the establishment."""
    return {0: (row["mef"], row["division"]), 1: (row["mef"], None)}.get(row["g"], (None, None))


def _tables(rows: list[asyncpg.Record], figures: dict[Level, dict[str, Cell]], columns: list[Column],
            title: str) -> list[Table]:
    labels = {r["mef"]: r["libelle"] or "" for r in rows if r["g"] == 1}
    sections: dict[tuple[str, str], list[dict[str, Cell]]] = defaultdict(list)
    for (mef, division), line in figures.items():
        if mef is not None and division is not None:
            sections[(mef, labels[mef])].append({"division": division, **line})
    totals = {mef: line for (mef, division), line in figures.items() if mef is not None and division is None}
    return [Table(title=title, section="etablissement", columns=columns, rows=[figures[(None, None)]]),
            *by_structure(sections, totals, columns)]


async def eleves(conn: asyncpg.Connection, uai: str) -> Synthesis:
    """Synthèse comptes élèves: the establishment, then per MEF and division with "Somme :" rows."""
    rows = await conn.fetch(ELEVES_SQL, uai)
    figures: dict[Level, dict[str, Cell]] = {(None, None): eleves_figures(0, 0, 0, 0)}
    figures.update({_level(r): eleves_figures(r["eleves"], r["non_notifies"], r["notifies"], r["utilises"])
                    for r in rows})
    return Synthesis(scope=uai, synthese="eleves", title="Synthèse comptes élèves", tables=_tables(
        rows, figures, ELEVES_COLUMNS, "Synthèse des comptes élèves de l'établissement"))


async def responsables(conn: asyncpg.Connection, uai: str, year_start: datetime) -> Synthesis:
    """Synthèse comptes responsables: a grouped account counts once per line, each of its pupils counts."""
    rows = await conn.fetch(RESPONSABLES_SQL, uai, year_start)
    figures: dict[Level, dict[str, Cell]] = {(None, None): responsables_figures(0, 0, 0, 0, 0, 0, 0)}
    figures.update({_level(r): responsables_figures(
        r["eleves"], r["comptes"], r["non_notifies"], r["notifies"], r["notifies_annee"], r["utilises"],
        r["eleves_resp_utilise"]) for r in rows})
    return Synthesis(scope=uai, synthese="responsables", title="Synthèse comptes responsables", tables=_tables(
        rows, figures, RESPONSABLES_COLUMNS, "Synthèse des comptes responsables de l'établissement"))


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
