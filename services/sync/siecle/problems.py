"""What can go wrong in an import: a file that cannot be read at all, or problems found in a readable one."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SiecleFileError(Exception):
    """A file that cannot be read as a SIECLE/BEE export (zip, encoding, XML, root element, PARAMETRES)."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        where = file if line is None else f"{file}, ligne {line}"
        super().__init__(f"{where} : {message}")
        self.file = file
        self.message = message
        self.line = line


class Severity(StrEnum):
    """An erreur stops the import; an avertissement is shown to staff and the import goes on."""

    erreur = "erreur"
    avertissement = "avertissement"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem found in an export, with where it is and a message in plain French."""

    severity: Severity
    file: str
    path: str
    """Element path, e.g. BEE_ELEVES/DONNEES/ELEVES/ELEVE[ELEVE_ID=1234]/DATE_NAISS."""
    siecle_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.severity} — {self.file}, {self.path} : {self.message}"


@dataclass
class ProblemLog:
    """Collects the problems found in one file."""

    file: str
    problems: list[ImportProblem] = field(default_factory=list)

    def erreur(self, path: str, message: str, siecle_id: str | None = None, field: str | None = None) -> None:
        """Record an erreur."""
        self.problems.append(ImportProblem(Severity.erreur, self.file, path, siecle_id, field, message))

    def avertissement(self, path: str, message: str, siecle_id: str | None = None, field: str | None = None) -> None:
        """Record an avertissement."""
        self.problems.append(ImportProblem(Severity.avertissement, self.file, path, siecle_id, field, message))
