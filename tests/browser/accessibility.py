"""Checks every page test can make: axe-core's WCAG 2.1 A and AA rules (axe-core from npm,
fetched with a pinned sha512 by deploy/web-assets.sh into tests/browser/vendor/ and injected here
through the DevTools protocol, so the app never serves it and its Content-Security-Policy stays
as it is), no horizontal scrolling, and screenshots saved under tests/browser/artifacts/ (or
$FT_ARTIFACTS)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.support import ROOT

AXE = ROOT / "tests" / "browser" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# Screenshots and counts a test leaves for people to look at ($FT_ARTIFACTS moves them).
ARTIFACTS = Path(os.environ.get("FT_ARTIFACTS") or ROOT / "tests" / "browser" / "artifacts")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run deploy/web-assets.sh")
    return AXE.read_text(encoding="utf-8")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(_axe_source())
    # Only the violations are gathered: axe's passes and inapplicable results are what it
    # spends most of a run on describing (every node that passed), and nothing here reads them.
    result: dict[str, Any] = await page.evaluate(
        """async (tags) => await window.axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        WCAG_21_AA,
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


async def assert_accessible(page: Page) -> None:
    found = await axe_violations(page)
    assert not found, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in found
    )


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = await page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page scrolls sideways: {width} px wide in {viewport} px"


async def screenshot(page: Page, name: str) -> Path:
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
