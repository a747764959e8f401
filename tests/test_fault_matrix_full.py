"""The full fault x check matrix (on request: pytest tests --fault-matrix -k matrix -s).

Every check runs against the reference server with each fault on; the table shows which checks each
fault makes fail. It is written to reports/fault-matrix.md and printed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from assistants_conformance.reference.faults import FAULTS

from fault_matrix import ROOT, by_dialect, catalog, run_suites


@pytest.fixture
def wanted(request):
    if not request.config.getoption("--fault-matrix"):
        pytest.skip("full fault matrix runs with --fault-matrix")


@pytest.mark.timeout(3600)  # one suite run per fault; the project's default bound is per ordinary test
def test_full_fault_matrix(wanted):
    expected = catalog()

    def row(fault):
        meant = sorted(c for c, faults in expected.items() if fault in faults)
        caught = set()
        for dialect in by_dialect(meant) or {"openai": []}:  # under each dialect the fault's checks are about
            status, _, _ = run_suites("--reference-fault", fault, "--dialect", dialect)
            caught |= {c for c, s in status.items() if s in ("fail", "error")}
        caught = sorted(caught)
        return fault, caught, sorted(set(meant) - set(caught))

    # Three suite runs at a time: much of a run is waiting (expiry windows), not computing.
    with ThreadPoolExecutor(max_workers=3) as pool:
        rows = list(pool.map(row, sorted(FAULTS)))
    lines = ["| fault | checks that fail | meant to catch it but passed |", "|---|---|---|"]
    lines += [f"| {f} | {', '.join(c) or '—'} | {', '.join(m) or '—'} |" for f, c, m in rows]
    table = "\n".join(lines)
    out = ROOT / "reports" / "fault-matrix.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n", encoding="utf-8")
    print("\n" + table)
    assert all(not missed for _, _, missed in rows), table
    assert all(caught for _, caught, _ in rows), "a fault that no check catches:\n" + table
