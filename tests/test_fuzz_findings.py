"""Fuzz findings come grouped: one entry per (operation, problem) with its count and the smallest request
as a curl line, in results.json (evidence kind "findings") and in the failure text, all groups listed."""

from __future__ import annotations

import re

from fault_matrix import run_suites_document


def test_fuzz_failure_lists_every_operation_and_problem_with_a_reproducible_request():
    document, output = run_suites_document("--reference-fault", "float-timestamps", "--check", "FUZZ-002")
    (record,) = [r for r in document["checks"] if r["id"] == "FUZZ-002"]
    assert record["status"] == "fail", output
    (findings,) = [e for e in record["evidence"] if e["kind"] == "findings"]
    groups = findings["groups"]
    operations = {g["operation"] for g in groups}
    # Before: "N generated request(s) ...; operations: <~25 names>" with 3 examples, all of one operation.
    assert len(operations) >= 10, operations
    assert len({(g["operation"], g["problem"]) for g in groups}) == len(groups)
    what = next(line for line in record["message"].splitlines() if line.startswith("what happened:"))
    assert "operations:" not in what
    total = int(re.search(r"what happened: (\d+) generated request", what).group(1))
    assert sum(g["count"] for g in groups) == total
    for group in groups:
        assert "Response violates schema at /" in group["problem"] and "(type)" in group["problem"], group
        example = group["example"]
        method, template = group["operation"].split(" ", 1)
        assert example["curl"].startswith("curl -sS " + ("" if method == "GET" else f"-X {method} ")
                                          + "http://127.0.0.1:"), example
        assert "'Authorization: Bearer '\"$OPENAI_API_KEY\"" in example["curl"], example["curl"]
        assert "sk-" not in example["curl"] and "Schemathesis" not in example["curl"]
        assert example["status"] == 200 and "created_at" in example["response"]
        # The failure text names every group, not just the first few.
        assert f"x] {group['operation']}: {group['problem']}" in record["message"]
