"""Letters to PDF with WeasyPrint: one document for many letters, one per page, tagged (PDF/UA-1).

The stylesheet and the font configuration are made once per process. Rendering is CPU-bound and synchronous:
the notifier runs it in worker processes (`pdf_process_pool`, `PdfRenderer.submit`), never on its event loop.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import weasyprint
from pydantic import TypeAdapter
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from teleservices.notifier.pdf.letter import LetterData, document_html, stylesheet_text

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"
"""Tagged PDF for screen readers, with the document's language and title."""
_HARFBUZZ_SUBSET_NAMES = ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll")
_letters_adapter = TypeAdapter(list[LetterData])
_variant_refused = False


def harfbuzz_subset_available() -> bool:
    """Whether HarfBuzz's subsetting library (Debian: libharfbuzz-subset0) can be loaded.

    Without it WeasyPrint subsets fonts with fontTools: letters still print, about 25 % slower in a batch and four
    times slower for a one-letter document.
    """
    found = ctypes.util.find_library("harfbuzz-subset")
    for name in (found, *_HARFBUZZ_SUBSET_NAMES):
        if not name:
            continue
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


@cache
def font_configuration() -> Any:
    """This process's WeasyPrint font configuration."""
    return FontConfiguration()


@cache
def stylesheet() -> Any:
    """The letters' stylesheet, parsed once per process."""
    return weasyprint.CSS(string=stylesheet_text(), font_config=font_configuration(), url_fetcher=_no_fetching())


def _no_fetching() -> Any:
    """A URL fetcher that fetches nothing: a letter needs no outside resource, and must not reach the network."""
    return URLFetcher(allowed_protocols=())


def warm_up() -> None:
    """Make the stylesheet and font configuration now (a worker process's initializer)."""
    stylesheet()


def render_letters_pdf(letters: Sequence[LetterData], *, tagged: bool = True, title: str | None = None) -> bytes:
    """One PDF holding the letters in the given order (sorting them is the caller's job), one per page."""
    global _variant_refused  # once the variant failed in this process, stop trying it
    html = weasyprint.HTML(string=document_html(letters, inline_css=False, title=title), url_fetcher=_no_fetching())
    options: dict[str, Any] = {"stylesheets": [stylesheet()], "font_config": font_configuration()}
    if tagged and not _variant_refused:
        try:
            return bytes(html.write_pdf(pdf_variant=PDF_VARIANT, **options))
        except Exception:
            untagged = bytes(html.write_pdf(**options))  # if this fails too, the variant was not the cause
            _variant_refused = True
            log.warning("PDF variant refused by WeasyPrint: letters are printed untagged", exc_info=True,
                        extra={"pdf_variant": PDF_VARIANT})
            return untagged
    return bytes(html.write_pdf(**options))


def encode_letters(letters: Sequence[LetterData], *, tagged: bool = True) -> bytes:
    """Letters as JSON for a worker process (they hold clear passwords: only for a local pipe, never stored)."""
    return json.dumps({"tagged": tagged, "letters": _letters_adapter.dump_python(list(letters), mode="json")},
                      ensure_ascii=False).encode()


def render_in_worker(payload: bytes) -> bytes:
    """`encode_letters`'s output rendered to PDF: the function a process pool runs."""
    data = json.loads(payload)
    return render_letters_pdf(_letters_adapter.validate_python(data["letters"]), tagged=bool(data["tagged"]))


def pdf_process_pool(workers: int | None = None, niceness: int = 0) -> ProcessPoolExecutor:
    """Worker processes for PDF rendering, started by a fork server (safe beside an event loop and threads).

    Each worker lowers its CPU priority by `niceness` (interactive work on the same cores goes first; rendering
    takes what is left), and ends when the process that made the pool ends, even killed with SIGKILL: a worker
    would otherwise wait for letters for ever, and keep the fork server alive with it."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=start_worker, initargs=(os.getpid(), niceness))


def start_worker(owner_pid: int, niceness: int) -> None:
    """A render worker's initializer: its priority, a watch on the pool's owner, the stylesheet made."""
    if niceness:
        os.nice(niceness)
    threading.Thread(target=_exit_with, args=(owner_pid,), name="owner-watch", daemon=True).start()
    warm_up()


def _exit_with(owner_pid: int) -> None:
    """Wait for the owner process to end, then end this one (a pidfd where Linux has them, else polling)."""
    try:
        owner = os.pidfd_open(owner_pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # no pidfd here: ask every second
        while True:
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
            time.sleep(1)
    select.select([owner], [], [])
    os._exit(0)


@dataclass(frozen=True)
class PdfRenderer:
    """Renders batches of letters; stateless and picklable, so `executor.submit(renderer.render, letters)` works."""

    tagged: bool = True

    def render(self, letters: Sequence[LetterData]) -> bytes:
        """One PDF for the letters, rendered in this process."""
        return render_letters_pdf(letters, tagged=self.tagged)

    def submit(self, executor: Executor, letters: Sequence[LetterData]) -> Future[bytes]:
        """Render in an executor's worker (a process pool): the letters travel as JSON."""
        return executor.submit(render_in_worker, encode_letters(letters, tagged=self.tagged))
