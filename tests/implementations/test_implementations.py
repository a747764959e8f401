"""On request: the whole default suite against each known implementation, and docs/implementations.md.

    pytest tests/implementations --implementations [--implementation myla] -s

Off by default (each implementation installs from PyPI and takes minutes): CI's `pytest tests -n 2` skips
these tests with that reason. Implementations run one after another (one xdist group), each as a
`pytest suites -n 2` subprocess; the page is rewritten after each, keeping the other implementations'
rows from docs/implementations.json.
"""

from __future__ import annotations

import json

import pytest

from assistants_conformance.catalog import collect_checks
from assistants_conformance.paths import PROJECT_DIR

from .matrix import load_triage, read_records, render, summarize, untriaged, write_records
from .runner import run_suite
from .targets import IMPLEMENTATIONS

DOC = PROJECT_DIR / "docs" / "implementations.md"
RECORDS = PROJECT_DIR / "docs" / "implementations.json"
RUNS = PROJECT_DIR / "reports" / "implementations"   # results.json, pytest output and server logs

pytestmark = [pytest.mark.timeout(3600), pytest.mark.xdist_group("implementations")]


@pytest.fixture
def wanted(request, name):
    config = request.config
    if not config.getoption("--implementations"):
        pytest.skip("on request: pytest tests/implementations --implementations (installs third-party "
                    "servers from PyPI; minutes each)")
    chosen = config.getoption("--implementation")
    if chosen and name not in chosen:
        pytest.skip(f"not chosen with --implementation ({', '.join(chosen)})")
    return IMPLEMENTATIONS[name]


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_whole_suite(name, wanted):
    impl = wanted
    out = RUNS / impl.name
    with impl.start(out / "server") as running:
        run = run_suite(running, out)
        notes = impl.probe(running) if impl.probe else []
    assert run.results.is_file(), f"{impl.name}: no results.json (pytest exit {run.exit_status}); see {run.log}"
    document = json.loads(run.results.read_text(encoding="utf-8"))
    record = summarize(document, name=impl.name, version=impl.version, how=impl.how,
                       wall_seconds=run.wall_seconds, crashes=len(run.crashes),
                       expected_ids={c.id for c in collect_checks()}, notes=notes)
    records = [r for r in (read_records(RECORDS) if RECORDS.is_file() else []) if r["name"] != impl.name]
    records = sorted(records + [record], key=lambda r: list(IMPLEMENTATIONS).index(r["name"]))
    write_records(records, RECORDS)
    triage = load_triage()
    DOC.write_text(render(records, triage), encoding="utf-8")
    assert run.exit_status in (0, 1), f"{impl.name}: pytest exit {run.exit_status} (not a verdict); see {run.log}"
    assert not run.crashes, f"{impl.name}: harness tracebacks in {run.log}:\n" + "\n".join(run.crashes[:20])
    assert not record["no_verdict"], f"{impl.name}: checks without a verdict: {record['no_verdict']}"
    assert not untriaged([record], triage), "failures without a triage in tests/implementations/triage.yaml:\n" \
        + "\n".join(untriaged([record], triage))
