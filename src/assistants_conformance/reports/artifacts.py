"""Write a report folder: every file rendered from one results document."""

from __future__ import annotations

from pathlib import Path

from . import formats
from .html import report_html

FILES = ("results.json", "report.html", "summary.md", "junit.xml", "exchanges.har", "badge.svg")


def write_report(folder: str | Path, document: dict, gate: dict | None = None) -> list[Path]:
    """Render report.html, summary.md, junit.xml, exchanges.har and badge.svg into folder (results.json
    is already there: the pytest plugin wrote it). Returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {
        "report.html": report_html(document, gate),
        "summary.md": formats.summary_markdown(document, gate),
        "junit.xml": formats.junit_xml(document),
        "exchanges.har": formats.har(document),
        "badge.svg": formats.badge_svg(document),
    }
    written = []
    for name, text in outputs.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
