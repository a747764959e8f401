"""Docs that must match the code."""

from __future__ import annotations

import re
import subprocess
import sys

from assistants_conformance.catalog import collect_checks, fault_catalog, markdown
from assistants_conformance.paths import PROJECT_DIR


def test_checks_catalog_is_current():
    expected = markdown(collect_checks(), fault_catalog())
    actual = (PROJECT_DIR / "docs" / "checks.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/checks.md is stale: run `assistants-conformance checks --markdown > docs/checks.md`"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block and readme.index("```sh") < 100, "README must open with its set-up commands"
    setup, tests = block.group(1).strip().splitlines()
    assert "pytest suites" in setup and "pip install" in setup
    assert "pytest tests" in tests and "pip install" in tests
    ci = (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8")
    assert "pytest tests" in ci and "README.md" in ci  # .ci/run executes README's own line


def test_cli_lists_its_commands():
    out = subprocess.run([sys.executable, "-m", "assistants_conformance.cli", "--help"],
                         capture_output=True, text=True, timeout=60).stdout
    for command in ("serve", "run", "load", "report", "checks"):
        assert command in out
