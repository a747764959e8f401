"""`assistants-conformance run`: the suites against a target, a report folder, an exit code for CI.

    0  nothing regressed (against the baseline, or: no check failed)
    1  a check newly fails or disappeared; with --level core also any failing MUST check
    2  harness or configuration error (bad option, profile or baseline, unreachable target, no checks)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pytest

from ..wire.config import ConfigError, resolve_config
from ..options import SUITE_OPTIONS, as_arguments, target_settings
from ..paths import suites_dir
from ..preflight import stop_line
from ..pytest_plugin import PREFLIGHT_STOPPED

HARNESS_ERROR = 2
# pytest exit codes that mean the run itself went wrong (interrupted, internal error, usage error, no tests).
PYTEST_TROUBLE = {2: "the run was interrupted", 3: "pytest hit an internal error",
                  4: "pytest usage error (see above)", 5: "no check was collected"}


def add_arguments(run: argparse.ArgumentParser) -> None:
    for flag, kwargs in SUITE_OPTIONS:  # the plugin's own options, passed on to pytest
        run.add_argument(flag, **kwargs)
    run.add_argument("-k", metavar="EXPRESSION", dest="keyword",
                     help="only the checks whose test names match this pytest -k expression")
    run.add_argument("--report-dir", help="report folder (default: reports/<UTC timestamp>/)")
    run.add_argument("--baseline", metavar="FILE",
                     help="YAML: check id -> expected status (with a reason or link); with it, exit 1 only on "
                          "regressions (without it, on any failing check)")
    run.add_argument("--update-baseline", action="store_true",
                     help="rewrite --baseline FILE from this run (reasons of unchanged entries are kept)")
    run.add_argument("--level", choices=("core", "full"), default="full",
                     help="core: run the MUST checks only and fail on any MUST failure whatever the baseline "
                          "says; full (default): every check, gated by the baseline")
    run.add_argument("--repeat", type=_positive_int, default=1, metavar="N",
                     help="run the suites N times with the same settings; a check whose outcome differs "
                          "between the runs is reported unstable (default 1)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST_ARGS",
                     help="further pytest arguments after -- (e.g. -- -n 2)")


class _PreflightWatch:
    """Learns from the plugin whether pytest stopped at preflight (it has printed the one line then)."""

    stopped: str | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config: pytest.Config):
        code = yield
        self.stopped = config.stash.get(PREFLIGHT_STOPPED, None)
        return code


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _stopped_by_preflight(args: argparse.Namespace) -> bool:
    """The plugin's preflight on run's own target options; True (the one line printed) if it stops."""
    try:
        line = stop_line(resolve_config(target_settings(lambda name: getattr(args, name)), os.environ))
    except ConfigError as exc:
        line = f"assistants-conformance: {exc}"
    if line is not None:
        print(line, file=sys.stderr)
    return line is not None


def _error(message: str) -> int:
    print(f"assistants-conformance run: {message}", file=sys.stderr)
    return HARNESS_ERROR


def run_command(args: argparse.Namespace) -> int:
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
    pytest_args += as_arguments(args)
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.level == "core":
        pytest_args += ["-p", "assistants_conformance.reports.levels", "--conformance-level", "core"]
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    watch = _PreflightWatch()
    if args.repeat > 1:
        # Each repetition is a pytest process of its own: look at the target once, here, first.
        if _stopped_by_preflight(args):
            return HARNESS_ERROR
        code = run_repeated(pytest_args + extra, results_path, args.repeat)
    else:
        code = int(pytest.main(pytest_args + extra, plugins=[watch]))

    if watch.stopped:
        return HARNESS_ERROR  # the target cannot be tested as configured: the plugin said why in one line
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
        print(f"  {verdict['noun']} {regression['id']}: {regression['why']}")
    return verdict["exit_code"]
