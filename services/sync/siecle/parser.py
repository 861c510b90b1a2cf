"""The parsing layer's entry points: one function per export file, and `parse_export` for a whole export."""

from __future__ import annotations

from teleservices.sync.siecle.eleves import ElevesFile, parse_eleves
from teleservices.sync.siecle.export import ExportInput, SiecleExport, find_files, parse_export
from teleservices.sync.siecle.referentiels import NomenclatureFile, StructuresFile, parse_nomenclature, parse_structures
from teleservices.sync.siecle.responsables import ResponsablesFile, parse_responsables

__all__ = [
    "ElevesFile",
    "ExportInput",
    "NomenclatureFile",
    "ResponsablesFile",
    "SiecleExport",
    "StructuresFile",
    "find_files",
    "parse_eleves",
    "parse_export",
    "parse_nomenclature",
    "parse_responsables",
    "parse_structures",
]
