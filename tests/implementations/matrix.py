"""docs/implementations.md: the compatibility matrix of known implementations, generated, never edited.

Two steps, so that a test can keep the page current without re-running any server:

1. `summarize(document, impl, run)` folds one run's results.json into a compact record (counts per
   status and per area, every check that did not pass or get declared unsupported, with one line of
   evidence). The records of all implementations are docs/implementations.json.
2. `render(records, triage)` writes the Markdown page from those records and `triage.yaml` (for each
   failure: a departure of that server, or a harness defect, and why; and the harness fixes made).

Statuses are counted generically: pass, fail, blocked, unsupported, skip and error always have a
column, and any other status a results.json holds gets one too (never a crash on a new status).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml

from assistants_conformance.reports.formats import _first_line as what_happened

FORMAT = 1   # bump when the page or the JSON changes shape (tests/test_implementations_doc.py checks it)
COLUMNS = ("pass", "fail", "blocked", "unsupported", "skip", "error")
QUIET = {"pass", "unsupported", "skip"}          # statuses not listed check by check
NEEDS_TRIAGE = {"fail", "error"}                 # every one of these needs a verdict in triage.yaml
VERDICTS = {"departure": "departure of the server", "harness": "harness defect (fixed)"}
EVIDENCE_CHARS = 400
HERE = Path(__file__).resolve().parent
TRIAGE = HERE / "triage.yaml"
LOOPBACK = re.compile(r"https?://127\.0\.0\.1:\d+")
EXCHANGE = re.compile(r"^\s*(GET|POST|DELETE|PUT|PATCH) \S+ -> .*$", re.M)


# --- 1. results.json -> compact record ----------------------------------------------------------------


def one_line_evidence(message: str) -> str:
    """What happened, and the first exchange of the evidence (method, path, status), on one line; the
    loopback host and port (different on every run) are left out."""
    what = what_happened(message)
    exchange = EXCHANGE.search(message or "")
    line = what
    if exchange and exchange.group(0).strip() not in what:
        line += f" [{exchange.group(0).strip()}]"
    line = LOOPBACK.sub("", line)
    return line if len(line) <= EVIDENCE_CHARS else line[:EVIDENCE_CHARS - 1] + "…"


def summarize(document: dict, *, name: str, version: str, how: str, wall_seconds: float,
              crashes: int = 0, expected_ids: set[str] | None = None, notes: list[str] = ()) -> dict:
    checks = [c for c in document.get("checks", []) if isinstance(c, dict) and "id" in c]
    areas: dict[str, Counter] = {}
    listed = []
    for check in sorted(checks, key=lambda c: c["id"]):
        status = str(check.get("status") or "no status")
        area = str(check.get("area") or check["id"].split("-")[0].lower())
        areas.setdefault(area, Counter())[status] += 1
        if status not in QUIET:
            entry = {"id": check["id"], "area": area, "level": check.get("level", ""), "status": status,
                     "evidence": one_line_evidence(str(check.get("reason") if status == "blocked" and check.get("reason")
                                                       else check.get("message") or ""))}
            if check.get("blocked_by"):
                entry["blocked_by"] = check["blocked_by"]
            listed.append(entry)
    ran = {c["id"] for c in checks}
    missing = sorted((expected_ids or set()) - ran - set(document.get("deselected") or []))
    profile = document.get("profile") or {}
    return {
        "name": name, "version": version, "how": how,
        "profile": profile.get("name", ""), "capabilities": profile.get("capabilities", []),
        "harness_version": (document.get("harness") or {}).get("version", ""),
        "started": document.get("started", ""), "wall_seconds": wall_seconds,
        "exit_status": document.get("exit_status"), "crashes": crashes,
        "counts": dict(sorted(Counter(str(c.get("status") or "no status") for c in checks).items())),
        "total": len(checks),
        "areas": {area: dict(sorted(counts.items())) for area, counts in sorted(areas.items())},
        "listed": listed, "no_verdict": missing, "notes": [LOOPBACK.sub("", n) for n in notes],
    }


def write_records(records: list[dict], path: Path) -> None:
    path.write_text(json.dumps({"format": FORMAT, "implementations": records}, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")


def read_records(path: Path) -> list[dict]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: format {document.get('format')!r}, the generator writes {FORMAT}")
    return document["implementations"]


# --- triage -------------------------------------------------------------------------------------------


def load_triage(path: Path = TRIAGE) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return data or {}


def verdict_for(triage: dict, implementation: str, entry: dict) -> dict | None:
    """The triage of one listed check: by its id (if the entry has a `when`, only while it matches: a check
    whose cases vary from run to run), else the first rule whose `when` matches. A `when` is a text, or a
    list of texts, that must all be in the evidence."""
    notes = (triage.get("implementations") or {}).get(implementation) or {}

    def matches(note: dict) -> bool:
        texts = [note["when"]] if isinstance(note.get("when"), str) else note.get("when") or []
        return all(text in entry["evidence"] for text in texts)

    by_id = (notes.get("checks") or {}).get(entry["id"])
    if by_id and matches(by_id):
        return by_id
    return next((rule for rule in notes.get("rules") or [] if rule.get("when") and matches(rule)), None)


def untriaged(records: list[dict], triage: dict) -> list[str]:
    return [f"{r['name']} {e['id']}: {e['evidence']}" for r in records for e in r["listed"]
            if e["status"] in NEEDS_TRIAGE and verdict_for(triage, r["name"], e) is None]


# --- 2. records -> Markdown -----------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def status_columns(records: list[dict]) -> list[str]:
    seen = {s for r in records for s in r["counts"]}
    return list(COLUMNS) + sorted(seen - set(COLUMNS))


def _area_cell(counts: dict[str, int], columns: list[str]) -> str:
    return " · ".join(f"{counts[s]} {s}" for s in columns if counts.get(s)) or "—"


def render(records: list[dict], triage: dict) -> str:
    columns = status_columns(records)
    areas = sorted({a for r in records for a in r["areas"]})
    out = [
        "# Known implementations: compatibility matrix",
        "",
        f"<!-- generated by tests/implementations/matrix.py (format {FORMAT}) from docs/implementations.json "
        "and tests/implementations/triage.yaml; do not edit: run `pytest tests/implementations "
        "--implementations` -->",
        "",
        "The whole default suite (`pytest suites -n 2`) run against real third-party servers, each pinned, "
        "installed into its own virtual environment and started on a loopback port by "
        "`tests/implementations/` (profiles in `specs/profiles/`). A check whose capability the profile "
        "does not declare is *unsupported*, never failed.",
        "",
        "| implementation | version | checks | " + " | ".join(columns) + " | no verdict | harness tracebacks "
        "| wall time | run |",
        "|---|---|---|" + "---|" * len(columns) + "---|---|---|---|",
    ]
    for r in records:
        out.append(f"| {r['name']} | {r['version']} | {r['total']} | "
                   + " | ".join(str(r["counts"].get(s, 0)) for s in columns)
                   + f" | {len(r['no_verdict'])} | {r['crashes']} | {r['wall_seconds']:.0f} s "
                   f"| {r['started']} (harness {r['harness_version']}) |")
    out += ["", "## Per area", "",
            "| implementation | " + " | ".join(areas) + " |", "|---|" + "---|" * len(areas)]
    for r in records:
        out.append(f"| {r['name']} {r['version']} | "
                   + " | ".join(_area_cell(r["areas"].get(a, {}), columns) for a in areas) + " |")
    for r in records:
        out += ["", f"## {r['name']} {r['version']}", "", f"Started: {r['how']}. Profile `{r['profile']}` "
                f"declares: {', '.join(r['capabilities']) or 'nothing beyond the core'}.", ""]
        if r["no_verdict"]:
            out += [f"Checks without a verdict: {', '.join(r['no_verdict'])}.", ""]
        out += [f"* {note}" for note in r.get("notes", [])] + ([""] if r.get("notes") else [])
        if not r["listed"]:
            out += ["Every check passed or was unsupported.", ""]
            continue
        out += ["| check | status | evidence (one line) | triage |", "|---|---|---|---|"]
        for e in r["listed"]:
            note = verdict_for(triage, r["name"], e)
            if e["status"] not in NEEDS_TRIAGE:
                blocked_by = e.get("blocked_by")
                owners = [blocked_by] if isinstance(blocked_by, str) else list(blocked_by or [])
                triaged = f"follows from {', '.join(owners)} (its prerequisite)" if owners else ""
            elif note is None:
                triaged = "**untriaged**"
            else:
                triaged = f"**{VERDICTS.get(note.get('verdict'), note.get('verdict'))}**: {note.get('why', '')}"
            out.append(f"| {e['id']} ({e['level']}) | {e['status']} | {_cell(e['evidence'])} | {_cell(triaged)} |")
    fixes = triage.get("harness_fixes") or []
    out += ["", "## False failures found and fixed", ""]
    if fixes:
        out += [f"* **{_cell(f.get('checks', ''))}** on {f.get('implementation', '')}: {f.get('found', '')} "
                f"Fix: {f.get('fix', '')}" for f in fixes]
    else:
        out.append("None.")
    return "\n".join(out) + "\n"
