"""The small report files rendered from a results document: summary.md, junit.xml, exchanges.har,
badge.svg. Pure functions: document in, text out."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

from ..outcomes import STATUSES
from . import evidence as ev
from .rules import rule_view

ICONS = {"pass": "✅", "fail": "❌", "blocked": "🚧", "error": "💥", "unstable": "🔀", "unsupported": "➖",
         "skip": "⏭️"}


def by_area(checks: list[dict]) -> dict[str, dict[str, int]]:
    """area -> counts per status (+ total), areas sorted."""
    areas: dict[str, dict[str, int]] = {}
    for check in checks:
        counts = areas.setdefault(check["area"], {**{s: 0 for s in STATUSES}, "total": 0})
        counts[check["status"]] += 1
        counts["total"] += 1
    return dict(sorted(areas.items()))


def target_label(document: dict) -> str:
    target = document.get("target") or {}
    if target.get("embedded_reference"):
        faults = target.get("reference_faults") or []
        return "embedded reference server" + (f" (faults: {', '.join(faults)})" if faults else "")
    return target.get("url") or "unknown target"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(document: dict, gate: dict | None = None, limit: int = 50) -> str:
    """summary.md: short enough for a CI step summary. Leads with the rules broken and what each blocked,
    then names every failing check (up to limit)."""
    counts = document.get("counts", {})
    profile = (document.get("profile") or {}).get("name", "?")
    view = rule_view(document["checks"])
    lines = ["# Assistants API conformance", "",
             f"Target: {_md_cell(target_label(document))} · profile `{profile}` · "
             f"harness {document.get('harness', {}).get('version', '?')} · "
             f"spec `{(document.get('spec_hash') or '?')[:12]}`", "",
             f"**{view['headline']}**", "",
             " · ".join(f"{ICONS[s]} {s} **{counts.get(s, 0)}**" for s in STATUSES), ""]
    lines += _rules_markdown(view, limit)
    if gate is not None:
        lines += [f"**Gate: {gate['verdict']}**" + (f" — {_md_cell(gate['reason'])}" if gate.get("reason") else ""), ""]
        failing = "Regressions" if gate.get("noun", "regression") == "regression" else "Failing checks that fail the gate"
        for title, key in ((failing, "regressions"), ("Fixed since the baseline", "fixed")):
            if gate.get(key):
                lines += [f"### {title}", ""] + [f"- `{i['id']}`: {_md_cell(i['why'])}" for i in gate[key]] + [""]
    lines += ["| Area | " + " | ".join(STATUSES) + " | total |", "|---" * (len(STATUSES) + 2) + "|"]
    for area, c in by_area(document["checks"]).items():
        lines.append(f"| {area} | " + " | ".join(str(c[s]) for s in STATUSES) + f" | {c['total']} |")
    failing = [c for c in document["checks"] if c["status"] in ("fail", "error", "unstable")]
    if failing:
        lines += ["", "## Failing checks", "", "| Check | Level | Rule | What happened |", "|---|---|---|---|"]
        for check in failing[:limit]:
            what = _first_line(check.get("message", ""))
            lines.append(f"| {ICONS[check['status']]} `{check['id']}` | {check['level']} | "
                         f"{_md_cell(check['rule'])} | {_md_cell(what)[:300]} |")
        if len(failing) > limit:
            lines.append(f"\n…and {len(failing) - limit} more: see report.html.")
    return "\n".join(lines) + "\n"


def _rules_markdown(view: dict, limit: int) -> list[str]:
    """The broken rules, each with the checks it blocked; then prerequisites that blocked checks without
    failing here, unstable checks and harness errors."""
    lines: list[str] = []
    if view["broken"]:
        lines += ["## Rules broken", ""]
        for entry in view["broken"][:limit]:
            check = entry["check"]
            lines.append(f"- ❌ `{check['id']}` {check['level']}: {_md_cell(check['rule'])} — "
                         f"{_md_cell(_first_line(check.get('message', '')))[:300]}")
            if entry["blocked"]:
                names = ", ".join(f"`{b['id']}`" for b in entry["blocked"])
                lines.append(f"  - 🚧 blocked {len(entry['blocked'])}: {names}")
        lines.append("")
    if view["other_blockers"]:
        lines += ["## Blocked by prerequisites that did not fail in this run", ""]
        for entry in view["other_blockers"]:
            why = _md_cell(entry["blocked"][0].get("reason", ""))[:300]
            state = f" (it is {entry['check']['status']} here)" if entry["check"] else " (not run)"
            lines.append(f"- `{entry['id']}`{state}: " + ", ".join(f"`{b['id']}`" for b in entry["blocked"])
                         + f" — {why}")
        lines.append("")
    for title, key in (("Unstable between runs", "unstable"), ("Harness errors (defects of the harness, not of "
                                                                "the target)", "errors")):
        if view[key]:
            lines += [f"## {title}", ""] + [f"- `{c['id']}`: {_md_cell(_first_line(c.get('message', '')))[:300]}"
                                              + (f" (varies by design: {_md_cell(c['varies'])})" if c.get("varies") else "")
                                              for c in view[key]] + [""]
    return lines


def _first_line(message: str) -> str:
    """The 'what happened' line of a rendered failure, else the message's last non-empty line."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("what happened:"):
            return line.removeprefix("what happened:").strip()
    return lines[-1] if lines else ""


def junit_xml(document: dict) -> str:
    """junit.xml with one testcase per check id, named by check id and grouped by area.
    Written from results.json, not pytest's --junitxml, so names are check ids and text is redacted."""
    root = ET.Element("testsuites", name="assistants-conformance")
    for area, counts in by_area(document["checks"]).items():
        checks = [c for c in document["checks"] if c["area"] == area]
        suite = ET.SubElement(root, "testsuite", name=area, tests=str(counts["total"]),
                              failures=str(counts["fail"] + counts["unstable"]), errors=str(counts["error"]),
                              skipped=str(counts["skip"] + counts["unsupported"] + counts["blocked"]),
                              time=f"{sum(c['duration'] for c in checks):.3f}")
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"conformance.{area}",
                                 name=f"{check['id']} [{check['level']}] {check['rule']}",
                                 time=f"{check['duration']:.3f}")
            status = check["status"]
            if status in ("fail", "error", "unstable"):
                tag = "error" if status == "error" else "failure"
                element = ET.SubElement(case, tag, message=_first_line(check["message"])[:500])
                element.text = check["message"]
                if status == "unstable":
                    element.set("type", "unstable")
            elif status in ("skip", "unsupported", "blocked"):
                # A blocked check is skipped for CI tools: the failure is counted once, under its prerequisite.
                reason = check.get("reason") or _first_line(check["message"])
                ET.SubElement(case, "skipped", message=(reason if status == "blocked" else f"{status}: {reason}")[:500])
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- HAR 1.2 -----------------------------------------------------------------------------------------


def _har_time(epoch: float | None) -> str:
    epoch = epoch or 0.0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def _pairs(headers: dict | None) -> list[dict]:
    return [{"name": str(k), "value": str(v)} for k, v in (headers or {}).items()]


def _header(headers: dict | None, name: str, default: str = "") -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return default


def har_entry(exchange: dict, comment: str = "") -> dict:
    """One recorded exchange as a HAR 1.2 entry (timings: only the total is known, as 'wait')."""
    elapsed_ms = round((exchange.get("elapsed") or 0.0) * 1000, 3)
    request_body = exchange.get("request_body")
    response_body = exchange.get("response_body") or ""
    request = {
        "method": exchange["method"], "url": exchange["url"], "httpVersion": "HTTP/1.1",
        "cookies": [], "headers": _pairs(exchange.get("request_headers")),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(exchange["url"]).query,
                                                                      keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(request_body.encode("utf-8")) if request_body else 0,
    }
    if request_body is not None:
        request["postData"] = {"mimeType": _header(exchange.get("request_headers"), "content-type",
                                                   "application/json"), "text": request_body}
    status = exchange.get("status")
    response = {
        "status": status or 0, "statusText": "" if status else (exchange.get("error") or "no response"),
        "httpVersion": "HTTP/1.1", "cookies": [], "headers": _pairs(exchange.get("response_headers")),
        "content": {"size": len(response_body.encode("utf-8")),
                    "mimeType": _header(exchange.get("response_headers"), "content-type", "x-unknown"),
                    "text": response_body},
        "redirectURL": "", "headersSize": -1, "bodySize": len(response_body.encode("utf-8")),
    }
    entry = {"startedDateTime": _har_time(exchange.get("started")), "time": elapsed_ms,
             "request": request, "response": response, "cache": {},
             "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0,
                         "wait": elapsed_ms, "receive": 0}}
    if comment:
        entry["comment"] = comment
    return entry


def har(document: dict) -> str:
    """exchanges.har: every recorded exchange of the failing checks, one page per check."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        harness_version = version("assistants-conformance")
    except PackageNotFoundError:
        harness_version = "unknown"
    pages, entries = [], []
    for check in document["checks"]:
        if check["status"] not in ("fail", "error"):
            continue
        exchanges = check.get("exchanges") or ev.exchanges_in(check.get("evidence", []))
        seen = set()
        unique = []
        for x in exchanges + ev.exchanges_in(check.get("evidence", [])):
            key = (x.get("started"), x.get("method"), x.get("url"))
            if key not in seen:
                seen.add(key)
                unique.append(x)
        if not unique:
            continue
        unique.sort(key=lambda x: x.get("started") or 0.0)
        page_id = check["id"]
        pages.append({"startedDateTime": _har_time(unique[0].get("started")), "id": page_id,
                      "title": f"{check['id']} {check['rule']}", "pageTimings": {}})
        for x in unique:
            entries.append({**har_entry(x, comment=check["id"]), "pageref": page_id})
    log = {"log": {"version": "1.2", "creator": {"name": "assistants-conformance", "version": harness_version},
                   "pages": pages, "entries": entries}}
    return json.dumps(log, indent=2, ensure_ascii=False)


# --- badge -------------------------------------------------------------------------------------------


def badge_svg(document: dict) -> str:
    """A shields-style badge: 'conformance | P/N pass' (N = checks judged: pass + fail + error + unstable)."""
    counts = document.get("counts", {})
    passed = counts.get("pass", 0)
    ran = passed + sum(counts.get(s, 0) for s in ("fail", "error", "unstable"))
    value = f"{passed}/{ran} pass"
    color = "#4c1" if ran and passed == ran else "#dfb317" if ran and passed / ran >= 0.9 else "#e05d44"
    label = "conformance"
    # Verdana 11px averages ~6.5 px per character: close enough for a badge.
    lw, vw = 10 + int(6.5 * len(label)), 10 + int(6.5 * len(value))
    w = lw + vw
    from html import escape

    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
            f'aria-label="{label}: {escape(value)}"><title>{label}: {escape(value)}</title>'
            f'<rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{color}"/>'
            f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
            f'<text x="{lw / 2}" y="14">{label}</text><text x="{lw + vw / 2}" y="14">{escape(value)}</text></g></svg>\n')
