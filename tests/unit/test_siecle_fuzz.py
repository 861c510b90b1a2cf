"""Mutated exports (truncated, bytes flipped or inserted, tags dropped, texts replaced): a result or a clean error."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Protocol, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teleservices.sync.siecle.parser import (
    SiecleExport,
    parse_eleves,
    parse_export,
    parse_nomenclature,
    parse_responsables,
    parse_structures,
)
from teleservices.sync.siecle.problems import SiecleFileError
from teleservices.sync.siecle.reader import InMemoryFile, Source

COLLEGE = Path(__file__).resolve().parents[1] / "fixtures" / "siecle" / "college_minimal"
VALID = {path.name: path.read_bytes() for path in sorted(COLLEGE.glob("*.xml"))}
TODAY = date(2025, 1, 20)
PARSERS: dict[str, Callable[[Source], object]] = {
    "ElevesAvecAdresses.xml": lambda source: parse_eleves(source, today=TODAY),
    "ResponsablesAvecAdresses.xml": parse_responsables,
    "Nomenclature.xml": parse_nomenclature,
    "Structures.xml": parse_structures,
}
TAG = re.compile(rb"<[^<>]*>")
TEXT = re.compile(rb">([^<>]*)<")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T = TypeVar("T")


class Draw(Protocol):
    """What the mutations need from hypothesis: `draw` of @st.composite, or `data.draw`."""

    def __call__(self, strategy: st.SearchStrategy[T]) -> T: ...


Mutation = Callable[[Draw, bytes], bytes]


def _truncate(draw: Draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _flip(draw: Draw, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]


def _insert(draw: Draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]


def _drop_tag(draw: Draw, data: bytes) -> bytes:
    tags = list(TAG.finditer(data))
    if not tags:
        return data
    tag = draw(st.sampled_from(tags))
    return data[: tag.start()] + data[tag.end():]


def _replace_text(draw: Draw, data: bytes) -> bytes:
    texts = list(TEXT.finditer(data))
    if not texts:
        return data
    text = draw(st.sampled_from(texts))
    value = draw(st.one_of(
        st.text(st.characters(codec="iso-8859-15"), max_size=12),
        st.from_regex(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{1,4}( [0-9]{2}:[0-9]{2}:[0-9]{2})?", fullmatch=True),
    ))
    return data[: text.start(1)] + value.encode("iso-8859-15") + data[text.end(1):]


MUTATIONS: list[Mutation] = [_truncate, _flip, _insert, _drop_tag, _replace_text]


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """One file of college_minimal, with one to three mutations."""
    name = draw(st.sampled_from(sorted(VALID)))
    data = VALID[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return name, data


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _result_or_clean_error(parse: Callable[[], object]) -> None:
    try:
        result = parse()
    except SiecleFileError as error:
        assert error.file and error.message
    else:
        assert isinstance(result, tuple | SiecleExport)


@FUZZ
@given(mutated_file())
def test_a_mutated_file_gives_a_result_or_a_clean_error(case: tuple[str, bytes]) -> None:
    name, data = case
    _result_or_clean_error(lambda: PARSERS[name](InMemoryFile(name, data)))


@settings(FUZZ, max_examples=60)
@given(mutated_file(), st.booleans(), st.data())
def test_a_mutated_zip_gives_a_result_or_a_clean_error(case: tuple[str, bytes], damage_zip: bool,
                                                       data: st.DataObject) -> None:
    name, content = case
    archive = _zipped(name, content)
    if damage_zip:
        archive = data.draw(st.sampled_from([_truncate, _flip, _insert]))(data.draw, archive)
    zip_name = f"ExportXML_{name.removesuffix('.xml')}.zip"
    _result_or_clean_error(lambda: PARSERS[name](InMemoryFile(zip_name, archive)))


@settings(FUZZ, max_examples=60)
@given(mutated_file())
def test_a_whole_export_with_one_mutated_file_gives_a_result_or_a_clean_error(case: tuple[str, bytes]) -> None:
    name, data = case
    files = [InMemoryFile(other, data if other == name else content) for other, content in VALID.items()]
    _result_or_clean_error(lambda: parse_export(files, today=TODAY))
