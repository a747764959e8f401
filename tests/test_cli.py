"""The `assistants-conformance` command as a new user meets it: help for every option, `checks` fast
and quiet on a closed pipe."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistants_conformance import catalog
from assistants_conformance.loadtest.cli import parser as load_parser
from assistants_conformance.reference.server import build_parser as serve_parser
from assistants_conformance.reports.cli import _parser as report_parser
from assistants_conformance.reports.run import add_arguments as add_run_arguments

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistants_conformance.cli"]


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser


def _report_parsers() -> list[argparse.ArgumentParser]:
    [commands] = [a for a in report_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(commands.choices.values())


PARSERS = {"run": lambda: [_run_parser()], "load": lambda: [load_parser()], "serve": lambda: [serve_parser()],
           "report": _report_parsers}


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_option_has_help_and_lists_its_choices(command):
    for parser in PARSERS[command]():
        shown = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            assert action.help and action.help.strip(), f"{command}: {action.option_strings or action.dest} has no help"
            if action.choices:
                assert "{" + ",".join(map(str, action.choices)) + "}" in shown


def test_load_help_ends_with_every_exit_code():
    text = load_parser().format_help()
    for line in ("0  no failures", "1  conformance violations", "2  usage error", "3  request failures only"):
        assert line in text


def test_checks_comes_from_the_cache_and_matches_a_fresh_collection(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "CACHE_DIR", tmp_path / "cache")
    fresh = catalog.collect_checks(cached=False)
    assert list((tmp_path / "cache").glob("catalog-*.json"))
    assert catalog.collect_checks() == fresh and len(fresh) > 100
    # A changed suite is a different catalog: the hash of the sources names the cache file.
    suites = tmp_path / "suites"
    (suites / "demo").mkdir(parents=True)
    assert catalog._sources_hash(suites) != catalog._sources_hash(ROOT / "suites")


def test_checks_prints_well_under_a_second_once_cached(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    first = subprocess.run([*CLI, "checks"], capture_output=True, text=True, env=env, timeout=60)
    started = time.monotonic()
    again = subprocess.run([*CLI, "checks"], capture_output=True, text=True, env=env, timeout=60)
    elapsed = time.monotonic() - started
    assert first.returncode == again.returncode == 0 and again.stdout == first.stdout
    assert again.stdout.splitlines()[-1].endswith(" checks")
    assert elapsed < 1.0, f"checks took {elapsed:.2f} s from the cache (about 0.2 s on an idle machine)"


def test_checks_into_a_closed_pipe_has_no_traceback():
    proc = subprocess.Popen([*CLI, "checks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written, as `| head -0` (or a quick head) does
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()[-2000:]
