"""A real headless Chromium (Debian's chromium) driven by Playwright, with accessibility checks and screenshots.

Use the `browser` fixture (tests/conftest.py) and, in a test:

    page = await new_page(browser, PHONE)
    await page.goto(url)
    await assert_accessible(page)
    await screenshot(page, "portal-login-phone")
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

ARTIFACTS = Path(os.environ.get("TELESERVICES_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# RGAA 4.1 = WCAG 2.1 levels A and AA.
WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
             "resultTypes": ["violations"]}
_CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--disable-dev-shm-usage"]
_axe = Axe()


def chromium_path() -> str:
    """Debian's chromium (installed by deploy/install-system-deps.sh with the test dependencies)."""
    found = os.environ.get("TELESERVICES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("chromium introuvable : TELESERVICES_WITH_TEST_DEPS=1 bash deploy/install-system-deps.sh")
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for one test (closed afterwards)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                                   args=_CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP, **context_options: Any) -> Page:
    """A page in a fresh context (own cookies) at this viewport, in French."""
    context = await browser.new_context(viewport=viewport, locale="fr-FR", **context_options)  # type: ignore[arg-type]
    return await context.new_page()


async def assert_accessible(page: Page, exclude: list[str] | None = None) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the page as it is now."""
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = await _axe.run(page, context=context, options=WCAG_A_AA)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


async def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artefact (test-artifacts/screenshots/NAME.png)."""
    target = ARTIFACTS / "screenshots" / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target), full_page=True)
    return target
