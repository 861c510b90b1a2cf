"""The browser harness itself: a page is rendered, checked for accessibility and kept as a screenshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.async_api import Browser

from tests.support.browser import PHONE, assert_accessible, new_page, screenshot

GOOD = (b'<!doctype html><html lang="fr"><head><title>Essai</title></head><body><main><h1>Bonjour</h1>'
        b'<form><label for="i">Identifiant</label><input id="i" name="i"></form></main></body></html>')
BAD = b'<!doctype html><html><body><img src="x.png"><input name="i"></body></html>'


@pytest.fixture
def site() -> Iterator[str]:
    """A tiny local site with one accessible page and one that is not."""
    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = GOOD if self.path == "/good" else BAD
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_an_accessible_page_passes_and_is_kept_as_a_screenshot(browser: Browser, site: str) -> None:
    page = await new_page(browser, PHONE)
    await page.goto(f"{site}/good")
    await assert_accessible(page)
    assert (await screenshot(page, "harness-good-phone")).stat().st_size > 0


async def test_an_inaccessible_page_is_reported(browser: Browser, site: str) -> None:
    page = await new_page(browser)
    await page.goto(f"{site}/bad")
    with pytest.raises(AssertionError, match=r"image-alt|label|html-has-lang"):
        await assert_accessible(page)
