"""Percentages and tables as the guide prints them (§5)."""

from __future__ import annotations

from teleservices.stats.domain.tables import (
    ELEVES_COLUMNS,
    Column,
    Kind,
    by_structure,
    display,
    eleves_figures,
    format_percent,
    ratio,
    sort_rows,
)


def test_percentages_have_two_decimals_at_most_as_in_the_guide() -> None:
    # Figures of the guide's screenshots: 11 of 1546 pupils, 2 of 223, 3 of 1480, 1 of 341, 2 of 19.
    assert [format_percent(ratio(n, d)) for n, d in [(11, 1546), (2, 223), (3, 1480), (1, 341), (2, 19)]] == [
        "0.71 %", "0.9 %", "0.2 %", "0.29 %", "10.53 %"]
    assert format_percent(ratio(0, 26)) == "0 %"
    assert format_percent(ratio(1, 20)) == "5 %"
    assert ratio(3, 0) == 0.0


def test_each_mef_gets_its_divisions_then_the_somme_row() -> None:
    sections = {("20110001110", "2NDE G-T"): [{"division": "2GT2", **eleves_figures(26, 0, 26, 0)},
                                              {"division": "2GT1", **eleves_figures(21, 0, 19, 2)},
                                              {"division": "", **eleves_figures(1, 1, 0, 0)}],
                ("", ""): [{"division": "X", **eleves_figures(1, 0, 0, 1)}]}
    totals = {"20110001110": eleves_figures(48, 1, 45, 2), "": eleves_figures(1, 0, 0, 1)}

    seconde, sans_mef = by_structure(sections, totals, ELEVES_COLUMNS)

    assert seconde.title == "2NDE G-T" and sans_mef.title == "Sans MEF"
    assert [r["division"] for r in seconde.rows] == ["2GT1", "2GT2", "Sans division"]
    assert seconde.total == {"division": "Somme :", "eleves": 48, "non_notifies": 1, "notifies": 45, "utilises": 2,
                             "pct_eleves_utilises": 4.17}
    assert display(ELEVES_COLUMNS[-1], seconde.total["pct_eleves_utilises"]) == "4.17 %"


def test_the_academy_view_sorts_by_any_column_with_empty_cells_last() -> None:
    rows = [{"uai": "B", "taux": 10.0}, {"uai": "A", "taux": None}, {"uai": "C", "taux": 2.5}]
    assert [r["uai"] for r in sort_rows(rows, "taux", descending=False)] == ["C", "B", "A"]
    assert [r["uai"] for r in sort_rows(rows, "taux", descending=True)] == ["B", "C", "A"]
    assert display(Column(key="n", label="N", kind=Kind.number), None) == ""
