"""Opening an export file (.xml or ExportXML_<Name>.zip), decoding it as declared, and streaming its records."""

from __future__ import annotations

import codecs
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.parsers.expat import errors as expat_errors

from teleservices.sync.siecle.model import ExportKind
from teleservices.sync.siecle.problems import SiecleFileError

CHUNK_BYTES = 64 * 1024
_DECLARED_ENCODING = re.compile(rb"<\?xml\s[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_ENCODING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_ACCEPTED_CODECS = frozenset({"iso8859-15", "utf-8", "iso8859-1", "cp1252", "ascii"})
_ZIP_NAME = re.compile(r"ExportXML_(?P<name>.+)\.zip", re.IGNORECASE)
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, ValueError)
_FORBIDDEN_DECLARATIONS = ("<!DOCTYPE", "<!ENTITY")
_TRUNCATED = frozenset(expat_errors.codes[message] for message in (
    expat_errors.XML_ERROR_NO_ELEMENTS, expat_errors.XML_ERROR_UNCLOSED_TOKEN, expat_errors.XML_ERROR_PARTIAL_CHAR,
    expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
))
_PARSE_MESSAGES = {
    expat_errors.codes[expat_errors.XML_ERROR_TAG_MISMATCH]: "une balise fermante ne correspond pas à l'ouvrante",
    expat_errors.codes[expat_errors.XML_ERROR_INVALID_TOKEN]: "caractère ou balise invalide",
    expat_errors.codes[expat_errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT]: "du contenu suit la fin du document",
    expat_errors.codes[expat_errors.XML_ERROR_UNDEFINED_ENTITY]: "entité XML inconnue",
}


@dataclass(frozen=True)
class InMemoryFile:
    """An export file received as bytes (an upload), with its original name."""

    name: str
    content: bytes


Source = str | os.PathLike[str] | InMemoryFile


@dataclass(frozen=True, slots=True)
class Record:
    """One complete element at a wanted path; it is discarded once the consumer moves on."""

    path: str
    element: ET.Element
    position: int
    """1-based rank among the records of the same path (names an element that has no identifier)."""


def source_name(source: Source) -> str:
    """The file name a source is known by in messages."""
    return source.name if isinstance(source, InMemoryFile) else Path(source).name


def read_root(source: Source) -> str:
    """The root element's tag, reading no further than needed."""
    with _opened(source) as (file, raw):
        try:
            # DTDs and entity declarations never reach the parser: _DecodedText refuses them.
            for _event, element in ET.iterparse(_DecodedText(raw, file), events=("start",)):  # noqa: S314
                tag: str = element.tag
                return tag
        except ET.ParseError as error:
            raise _parse_failure(file, error) from None
    raise SiecleFileError(source_name(source), "aucun élément XML")  # pragma: no cover - iterparse raises first


@contextmanager
def open_records(source: Source, kind: ExportKind, wanted: frozenset[str]) -> Iterator[tuple[str, Iterator[Record]]]:
    """The file's name for messages, and a stream of the elements at the `wanted` paths (all else is dropped)."""
    with _opened(source) as (file, raw):
        yield file, _records(_DecodedText(raw, file), file, kind, wanted)


def _records(stream: _DecodedText, file: str, kind: ExportKind, wanted: frozenset[str]) -> Iterator[Record]:
    ancestors = {path.rsplit("/", depth)[0] for path in wanted for depth in range(1, path.count("/") + 1)}
    stack: list[tuple[ET.Element, str]] = []
    record_depth = 0
    positions: Counter[str] = Counter()
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314 - see read_root
            if event == "start":
                if not stack and element.tag != kind.value:
                    raise SiecleFileError(file, f"l'élément racine est {element.tag}, or un fichier {kind.value} "
                                                f"est attendu : ce n'est pas le bon fichier")
                path = f"{stack[-1][1]}/{element.tag}" if stack else element.tag
                stack.append((element, path))
                if not record_depth and path in wanted:
                    record_depth = len(stack)
                continue
            depth = len(stack)
            _, path = stack.pop()
            if record_depth and depth > record_depth:
                continue
            if depth == record_depth:
                record_depth = 0
                positions[path] += 1
                yield Record(path, element, positions[path])
            elif path in ancestors:
                continue
            if stack:
                stack[-1][0].remove(element)
    except ET.ParseError as error:
        raise _parse_failure(file, error) from None


@contextmanager
def _opened(source: Source) -> Iterator[tuple[str, IO[bytes]]]:
    name = source_name(source)
    try:
        if isinstance(source, InMemoryFile):
            raw: IO[bytes] = io.BytesIO(source.content)
        else:
            raw = open(source, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise SiecleFileError(name, f"fichier illisible ({error.strerror or error})") from None
    with raw:
        if not name.lower().endswith(".zip"):
            yield name, raw
            return
        try:
            archive = zipfile.ZipFile(raw)
            member = _only_member(archive, name)
            inner: IO[bytes] = archive.open(member)
        except SiecleFileError:
            raise
        except _READ_ERRORS as error:
            raise SiecleFileError(name, f"archive zip illisible ({error})") from None
        with archive, inner:
            yield f"{member.filename} (dans {name})", inner


def _only_member(archive: zipfile.ZipFile, zip_name: str) -> zipfile.ZipInfo:
    members = archive.infolist()
    match = _ZIP_NAME.fullmatch(zip_name)
    expected = f"{match['name']}.xml" if match else None
    wanted = expected or "un seul fichier .xml"
    if len(members) != 1:
        found = ", ".join(member.filename for member in members) or "aucun fichier"
        raise SiecleFileError(zip_name, f"l'archive doit contenir exactement {wanted} ; elle contient "
                                        f"{len(members)} fichier(s) : {found}")
    member = members[0]
    name = member.filename
    if (expected and name.casefold() != expected.casefold()) or not name.lower().endswith(".xml"):
        raise SiecleFileError(zip_name, f"l'archive doit contenir {wanted} ; elle contient {name}")
    return member


class _DecodedText:
    """The file as text, decoded per its XML declaration; refuses DTDs and entity declarations (XML attacks)."""

    def __init__(self, raw: IO[bytes], file: str) -> None:
        self._raw = raw
        self._file = file
        first = self._read_raw()
        if not first:
            raise SiecleFileError(file, "le fichier est vide")
        self._pending: bytes | None = first
        self._encoding = _encoding(first, file)
        self._decoder = codecs.getincrementaldecoder(self._encoding)("strict")
        self._tail = ""
        self._line = 1
        self._done = False

    def read(self, _size: int = -1) -> str:
        """The next decoded piece; "" only at the end of the file."""
        while not self._done:
            data = self._pending if self._pending is not None else self._read_raw()
            self._pending = None
            self._done = not data
            try:
                text = self._decoder.decode(data, final=self._done)
            except UnicodeDecodeError as error:
                line = self._line + data[:error.start].count(b"\n")
                raise SiecleFileError(self._file, f"octets invalides pour l'encodage {self._encoding} "
                                                  f"déclaré par le fichier", line) from None
            if text:
                self._refuse_declarations(text)
                return text
        return ""

    def _read_raw(self) -> bytes:
        try:
            return self._raw.read(CHUNK_BYTES)
        except _READ_ERRORS as error:
            raise SiecleFileError(self._file, f"lecture impossible ({error})") from None

    def _refuse_declarations(self, text: str) -> None:
        window = self._tail + text
        for declaration in _FORBIDDEN_DECLARATIONS:
            at = window.find(declaration)
            if at >= 0:
                line = self._line + window[:at].count("\n") - self._tail.count("\n")
                raise SiecleFileError(self._file, f"le fichier contient une déclaration {declaration}, refusée "
                                                  f"par sécurité (un export SIECLE n'en contient jamais)", line)
        self._tail = window[-(max(map(len, _FORBIDDEN_DECLARATIONS)) - 1):]
        self._line += text.count("\n")


def _encoding(first: bytes, file: str) -> str:
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or first[:2] in (b"<\0", b"\0<"):
        raise SiecleFileError(file, "encodage UTF-16 non pris en charge (attendu : ISO-8859-15 ou UTF-8)")
    bom = first.startswith(codecs.BOM_UTF8)
    declared = _DECLARED_ENCODING.match(first[3:] if bom else first)
    if declared is None:
        return "utf-8-sig"
    name = declared.group(1).decode("latin-1")
    try:
        codec = codecs.lookup(name).name if _ENCODING_NAME.fullmatch(name) else ""
    except LookupError:
        codec = ""
    if codec not in _ACCEPTED_CODECS:
        raise SiecleFileError(file, f"l'encodage « {name} » déclaré dans l'en-tête XML est inconnu ou non pris "
                                    f"en charge (attendu : ISO-8859-15 ou UTF-8)", 1)
    if bom and codec != "utf-8":
        raise SiecleFileError(file, f"le fichier commence par une marque UTF-8 (BOM) mais déclare l'encodage "
                                    f"« {name} »", 1)
    return "utf-8-sig" if codec == "utf-8" else codec


def _parse_failure(file: str, error: ET.ParseError) -> SiecleFileError:
    line, column = error.position
    if error.code in _TRUNCATED:
        return SiecleFileError(file, f"le fichier est incomplet : le XML s'arrête avant sa fin (colonne {column}) ; "
                                     f"fichier tronqué pendant le téléchargement ?", line)
    reason = _PARSE_MESSAGES.get(error.code, f"XML mal formé : {expat_errors.messages.get(error.code, error)}")
    return SiecleFileError(file, f"{reason} (colonne {column})", line)
