"""`assistants-conformance report ...`: work with report folders.

    report render RESULTS.json [--out DIR] [--baseline FILE] [--level core|full]
        (re)write report.html, summary.md, junit.xml, exchanges.har, badge.svg from a results.json
    report compare A/results.json B/results.json [...] [--label NAME ...] [--out DIR]
        side-by-side matrix: DIR/compare.html and DIR/compare.md (Markdown also on stdout)
    report gate RESULTS.json [--baseline FILE] [--level core|full]
        the exit code `run` would give for these results (0 / 1 / 2)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .baseline import BaselineError, gate, load_baseline
from .results import ResultsError, load_results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistants-conformance report", description="Work with report folders.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    render = commands.add_parser("render", help="render the report files from a results.json")
    render.add_argument("results", help="a results.json written by `run` (or pytest --results-json)")
    render.add_argument("--out", help="folder to write into (default: the folder of RESULTS)")
    gate_parser = commands.add_parser("gate", help="exit code for CI from a results.json and a baseline")
    gate_parser.add_argument("results", help="a results.json written by `run` (or pytest --results-json)")
    for sub in (render, gate_parser):
        sub.add_argument("--baseline", metavar="FILE", help="baseline YAML (check id -> expected status)")
        sub.add_argument("--level", choices=("core", "full"), default="full",
                         help="core: every failing MUST check fails, whatever the baseline says (default full)")
    compare = commands.add_parser("compare", help="side-by-side matrix of several results.json")
    compare.add_argument("results", nargs="+", help="two or more results.json")
    compare.add_argument("--label", action="append", default=[], help="column label, in order (repeatable)")
    compare.add_argument("--out", help="folder for compare.html and compare.md "
                                       "(default: reports/compare-<UTC timestamp>/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"render": _render, "gate": _gate, "compare": _compare}[args.command](args)
    except (ResultsError, BaselineError) as exc:
        print(f"assistants-conformance report: {exc}", file=sys.stderr)
        return 2


def _verdict(args, document: dict) -> dict | None:
    if not args.baseline and args.level == "full":
        return None
    baseline = load_baseline(args.baseline) if args.baseline else None
    return gate(document, baseline, args.level)


def _render(args) -> int:
    from .artifacts import write_report

    document = load_results(args.results)
    folder = Path(args.out) if args.out else Path(args.results).parent
    for path in write_report(folder, document, _verdict(args, document)):
        print(path)
    return 0


def _gate(args) -> int:
    document = load_results(args.results)
    baseline = load_baseline(args.baseline) if args.baseline else None
    verdict = gate(document, baseline, args.level)
    print(f"{verdict['verdict']}: {verdict['reason']}")
    for regression in verdict["regressions"]:
        print(f"  {verdict['noun']} {regression['id']}: {regression['why']}")
    return verdict["exit_code"]


def _compare(args) -> int:
    from .compare import compare_markdown, compare_matrix
    from .html import compare_html

    if len(args.results) < 2:
        print("assistants-conformance report compare: give two or more results.json", file=sys.stderr)
        return 2
    matrix = compare_matrix(args.results, args.label)
    folder = Path(args.out or Path("reports") / time.strftime("compare-%Y%m%dT%H%M%SZ", time.gmtime()))
    folder.mkdir(parents=True, exist_ok=True)
    markdown = compare_markdown(matrix)
    (folder / "compare.md").write_text(markdown, encoding="utf-8")
    (folder / "compare.html").write_text(compare_html(matrix), encoding="utf-8")
    print(markdown)
    print(f"written: {folder / 'compare.html'}, {folder / 'compare.md'}", file=sys.stderr)
    return 0
