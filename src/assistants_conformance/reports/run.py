"""`assistants-conformance run`: the suites against a target, a report folder, an exit code for CI.

    0  nothing regressed (against the baseline, or: no check failed)
    1  a check newly fails or disappeared; with --level core also any failing MUST check
    2  harness or configuration error (bad option, profile or baseline, unreachable target, no checks)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..paths import suites_dir

HARNESS_ERROR = 2
# pytest exit codes that mean the run itself went wrong (interrupted, internal error, usage error, no tests).
PYTEST_TROUBLE = {2: "the run was interrupted", 3: "pytest hit an internal error",
                  4: "pytest usage error (see above)", 5: "no check was collected"}


def add_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("--target-url", help="API base URL (SDK base_url); default: the embedded reference server")
    run.add_argument("--api-key")
    run.add_argument("--second-api-key")
    run.add_argument("--profile", help="profile file or name in specs/profiles/")
    run.add_argument("--dialect")
    run.add_argument("--spec")
    run.add_argument("--run-slow", action="store_true")
    run.add_argument("--report-dir", help="report folder (default: reports/<UTC timestamp>/)")
    run.add_argument("--baseline", metavar="FILE",
                     help="YAML: check id -> expected status (with a reason or link); exit 1 only on regressions")
    run.add_argument("--update-baseline", action="store_true",
                     help="rewrite --baseline FILE from this run (reasons of unchanged entries are kept)")
    run.add_argument("--level", choices=("core", "full"), default="full",
                     help="core: run the MUST checks only and fail on any MUST failure whatever the baseline "
                          "says; full (default): every check, gated by the baseline")
    run.add_argument("--repeat", type=_positive_int, default=1, metavar="N",
                     help="run the suites N times with the same settings; a check whose outcome differs "
                          "between the runs is reported unstable (default 1)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="further pytest arguments after --")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _error(message: str) -> int:
    print(f"assistants-conformance run: {message}", file=sys.stderr)
    return HARNESS_ERROR


def run_command(args: argparse.Namespace) -> int:
    import pytest

    from .artifacts import write_report
    from .baseline import BaselineError, gate, load_baseline, write_baseline
    from .repeat import run_repeated
    from .results import ResultsError, load_results

    if args.update_baseline and not args.baseline:
        return _error("--update-baseline needs --baseline FILE")
    baseline = None
    if args.baseline and not (args.update_baseline and not Path(args.baseline).exists()):
        try:  # before the suites run: a bad baseline costs nothing
            baseline = load_baseline(args.baseline)
        except BaselineError as exc:
            return _error(str(exc))

    folder = Path(args.report_dir or Path("reports") / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    results_path = folder / "results.json"
    if results_path.exists():
        results_path.unlink()  # never report a previous run's results as this one's
    pytest_args = [str(suites_dir()), "--results-json", str(results_path),
                   # This process imported the package before pytest started: nothing to rewrite in it.
                   "-W", "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning"]
    for name in ("target_url", "api_key", "second_api_key", "profile", "dialect", "spec"):
        value = getattr(args, name)
        if value:
            pytest_args += [f"--{name.replace('_', '-')}", value]
    if args.run_slow:
        pytest_args.append("--run-slow")
    if args.level == "core":
        pytest_args += ["-p", "assistants_conformance.reports.levels", "--conformance-level", "core"]
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    if args.repeat > 1:
        code = run_repeated(pytest_args + extra, results_path, args.repeat)
    else:
        code = int(pytest.main(pytest_args + extra))

    if code in PYTEST_TROUBLE:
        return _error(f"{PYTEST_TROUBLE[code]} (pytest exit {code}); no report written")
    try:
        document = load_results(results_path)
    except ResultsError as exc:
        return _error(f"the suites wrote no usable results: {exc}")
    if args.update_baseline:
        write_baseline(args.baseline, document, baseline)
        baseline = load_baseline(args.baseline)
        print(f"assistants-conformance run: baseline written to {args.baseline}")
    verdict = gate(document, baseline, args.level)
    write_report(folder, document, verdict)
    print(f"assistants-conformance run: {verdict['verdict']}: {verdict['reason']}; report in {folder}/ "
          f"(report.html, summary.md, junit.xml, exchanges.har, badge.svg, results.json)")
    for regression in verdict["regressions"]:
        print(f"  regression {regression['id']}: {regression['why']}")
    return verdict["exit_code"]
