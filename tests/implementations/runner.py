"""Run the whole default suite against one started implementation, as a user would: a pytest subprocess
with --target-url, the keys, the implementation's profile and --results-json."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from assistants_conformance.paths import PROJECT_DIR, suites_dir

from .targets import Running, clean_env

SUITE_TIMEOUT = 1800.0   # seconds: a bound on one whole-suite run, far above the ~1-5 min it takes
# What a harness crash looks like in pytest's output (a check's verdict is never rendered this way).
CRASH = re.compile(r"Traceback \(most recent call last\)|INTERNALERROR|^E\s+\w+Error: ", re.M)


@dataclass
class SuiteRun:
    results: Path           # results.json
    log: Path               # pytest's output
    exit_status: int
    wall_seconds: float
    crashes: list[str]      # lines of the output that show a harness traceback


def run_suite(running: Running, out_dir: Path, workers: int = 2, extra: tuple[str, ...] = ()) -> SuiteRun:
    out_dir.mkdir(parents=True, exist_ok=True)
    results, log = out_dir / "results.json", out_dir / "pytest.log"
    command = [sys.executable, "-m", "pytest", str(suites_dir()), "-n", str(workers), "-p", "no:cacheprovider",
               "-q", "--tb=short", "--target-url", running.base_url, "--api-key", running.api_key,
               "--profile", str(running.profile), "--results-json", str(results), *extra]
    if running.second_api_key:
        command += ["--second-api-key", running.second_api_key]
    started = time.monotonic()
    with open(log, "wb") as out:
        try:
            done = subprocess.run(command, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=clean_env(), timeout=SUITE_TIMEOUT)
            status = done.returncode
        except subprocess.TimeoutExpired:
            status = -1
    text = log.read_text(errors="replace")
    crashes = [line for line in text.splitlines() if CRASH.search(line)]
    return SuiteRun(results, log, status, round(time.monotonic() - started, 1), crashes)
