"""The statistics tables as the guide prints them (§5): columns, the "Somme" row per MEF, percentages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

Cell = str | int | float | None


class Kind(StrEnum):
    """How a column's values are written: text, a count, or a percentage (0.71 means 0.71 %)."""

    text = "text"
    number = "count"
    percent = "percent"


class Column(BaseModel):
    """One column: its key in the rows, its heading in the guide's words, its kind."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    kind: Kind


class Table(BaseModel):
    """One table of a screen: heading, columns, rows, and the "Somme :" row where the guide has one."""

    title: str
    section: str
    """The screen's part: "etablissement", "structure" (per MEF), or another block of the screen."""
    mef: str | None = None
    """The MEF code of a per-structure table."""
    columns: list[Column]
    rows: list[dict[str, Cell]]
    total: dict[str, Cell] | None = None


class Synthesis(BaseModel):
    """Every table of one statistics screen."""

    scope: str
    """The establishment's UAI, or the academy's code."""
    synthese: str
    title: str
    tables: list[Table]


def text(key: str, label: str) -> Column:
    """A text column."""
    return Column(key=key, label=label, kind=Kind.text)


def count(key: str, label: str) -> Column:
    """A count column."""
    return Column(key=key, label=label, kind=Kind.number)


def percent(key: str, label: str) -> Column:
    """A percentage column."""
    return Column(key=key, label=label, kind=Kind.percent)


def ratio(numerator: int, denominator: int) -> float:
    """A percentage with two decimals at most (0 when there is nothing to divide)."""
    return round(100 * numerator / denominator, 2) if denominator else 0.0


def format_percent(value: float) -> str:
    """As the guide prints it: "0.71 %", "0.9 %", "0 %"."""
    return f"{value:.2f}".rstrip("0").rstrip(".") + " %"


def display(column: Column, value: Cell) -> str:
    """A cell as text (CSV)."""
    if value is None:
        return ""
    if column.kind is Kind.percent:
        return format_percent(float(value))
    return str(value)


SANS_MEF, SANS_DIVISION = "Sans MEF", "Sans division"
SOMME = "Somme :"

ELEVES_COLUMNS = [
    count("eleves", "Nombre d'élèves"),
    count("non_notifies", "Nombre de comptes non notifiés"),
    count("notifies", "Nombre de comptes notifiés"),
    count("utilises", "Nombre de comptes utilisés"),
    percent("pct_eleves_utilises", "% d'élèves avec comptes utilisés"),
]
RESPONSABLES_COLUMNS = [
    count("comptes", "Nombre de comptes responsables"),
    count("non_notifies", "Nombre de comptes non notifiés"),
    count("notifies", "Nombre de comptes notifiés ou en cours d'activation"),
    count("notifies_annee", "Nombre de comptes notifiés ou en cours d'activation année courante"),
    count("utilises", "Nombre de comptes utilisés"),
    percent("pct_comptes_utilises", "% de comptes resp. avec un compte utilisé"),
    percent("pct_eleves_resp_utilise", "% élèves ayant au moins un resp. avec un compte utilisé"),
]
DIVISION = text("division", "Division")


def eleves_figures(eleves: int, non_notifies: int, notifies: int, utilises: int) -> dict[str, Cell]:
    """One line of the pupils' synthesis."""
    return {"eleves": eleves, "non_notifies": non_notifies, "notifies": notifies, "utilises": utilises,
            "pct_eleves_utilises": ratio(utilises, eleves)}


def responsables_figures(eleves: int, comptes: int, non_notifies: int, notifies: int, notifies_annee: int,
                         utilises: int, eleves_resp_utilise: int) -> dict[str, Cell]:
    """One line of the representatives' synthesis."""
    return {"comptes": comptes, "non_notifies": non_notifies, "notifies": notifies, "notifies_annee": notifies_annee,
            "utilises": utilises, "pct_comptes_utilises": ratio(utilises, comptes),
            "pct_eleves_resp_utilise": ratio(eleves_resp_utilise, eleves)}


def mef_order(mefs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(code, label) pairs by code, the pupils without MEF last."""
    return sorted(set(mefs), key=lambda m: (m[0] == "", m[0], m[1]))


def division_order(division: str) -> tuple[bool, str]:
    """Divisions alphabetically, the pupils without division last."""
    return division == "", division


def mef_label(code: str, label: str | None) -> str:
    """A MEF's heading: its SIECLE label, else its code."""
    return label or code or SANS_MEF


def by_structure(section_rows: Mapping[tuple[str, str], Sequence[dict[str, Cell]]],
                 totals: Mapping[str, dict[str, Cell]], columns: list[Column]) -> list[Table]:
    """One table per MEF (divisions, then "Somme :"), in MEF order."""
    tables = []
    for code, label in mef_order(section_rows):
        rows = sorted(section_rows[(code, label)], key=lambda r: division_order(str(r["division"] or "")))
        for row in rows:
            row["division"] = row["division"] or SANS_DIVISION
        tables.append(Table(title=mef_label(code, label), section="structure", mef=code or None,
                            columns=[DIVISION, *columns], rows=rows, total={"division": SOMME, **totals[code]}))
    return tables


def sort_rows(rows: list[dict[str, Cell]], key: str, descending: bool) -> list[dict[str, Cell]]:
    """Rows sorted by one column (empty cells last)."""
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    return sorted(present, key=lambda r: (_sortable(r[key]), str(r.get("uai", ""))), reverse=descending) + missing


def _sortable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value
