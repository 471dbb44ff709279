"""Open a local HTML file in headless Chromium (Debian's `chromium`) and record what a reader's browser did.

Playwright drives the system Chromium (no browser download): every console message, page error and
network request is recorded, charts are measured in the live DOM and a full-page screenshot is taken.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# The flags the project runs Chromium with; Playwright adds --headless and the fresh --user-data-dir itself.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)

# Per chart container: its section, its SVG's size and how many drawn marks (bars, lines, symbols) have a visible box.
_MEASURE_CHARTS = """
() => Array.from(document.querySelectorAll('.chart')).map(div => {
  const section = div.closest('section') ? div.closest('section').id : '';
  const svg = div.querySelector('svg');
  if (!svg) return {section: section, width: 0, height: 0, marks: 0};
  const box = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > rect'))
    .filter(el => { const b = el.getBBox(); return b.width > 0 || b.height > 0; }).length;
  return {section: section, width: box.width, height: box.height, marks: marks};
})
"""


def chromium_path() -> str | None:
    """The system Chromium (`CHROMIUM` overrides), or None when it is not installed."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageVisit:
    """What happened while the page loaded."""

    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    title: str = ""


def visit(html: Path, screenshot: Path, executable: str, width: int = 1300) -> PageVisit:
    """Load `html` from disk in a fresh headless Chromium profile, measure its charts, take a screenshot."""
    from playwright.sync_api import sync_playwright

    url = html.resolve().as_uri()
    result = PageVisit(url=url)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: result.console.append((m.type, m.text)))
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))
            context.on("request", lambda r: result.requests.append(r.url))
            page.goto(url, wait_until="load")
            result.title = page.title()
            result.charts = page.evaluate(_MEASURE_CHARTS)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    return result
