"""Every table of a screen as one .xlsx workbook (numbers as numbers, percentages formatted, header frozen) or CSV."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from teleservices.stats.domain.tables import Kind, Synthesis, Table, display

PERCENT_FORMAT = "0.00 %"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORBIDDEN_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_name(title: str, taken: set[str]) -> str:
    base = (title.translate(_FORBIDDEN_IN_SHEET_NAMES).strip() or "Tableau")[:31]
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def xlsx(synthesis: Synthesis) -> bytes:
    """One sheet per table: its heading row frozen, then its rows and its "Somme :" row in bold."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in synthesis.tables:
        title = "Établissement" if table.section == "etablissement" else table.title
        sheet = book.create_sheet(_sheet_name(title, taken))
        sheet.append([c.label for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        rows = [*table.rows, *([table.total] if table.total else [])]
        for row in rows:
            sheet.append([_value(table, c.key, row.get(c.key)) for c in table.columns])
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            if column.kind is Kind.percent:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = PERCENT_FORMAT
            sheet.column_dimensions[letter].width = max(12, min(60, len(column.label) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(table: Table, key: str, value: object) -> object:
    """Percentages go in as fractions (Excel's % format multiplies by 100)."""
    column = next(c for c in table.columns if c.key == key)
    if column.kind is Kind.percent and isinstance(value, int | float):
        return value / 100
    return value


def csv_text(synthesis: Synthesis) -> str:
    """Every table one after the other (its title, its header, its rows), semicolon-separated as French
    spreadsheets expect; percentages as the guide prints them."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for index, table in enumerate(synthesis.tables):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.label for c in table.columns])
        for row in [*table.rows, *([table.total] if table.total else [])]:
            writer.writerow([display(c, row.get(c.key)) for c in table.columns])
    return out.getvalue()
