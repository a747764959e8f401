"""The whole default suite runs unchanged under the azure and v1 dialects against the reference server:
every check passes, except that checks about another dialect's own rules are reported unsupported, and
the dialect's own checks (AZURE-*, V1-*) really ran and passed."""

from __future__ import annotations

import pytest

from fault_matrix import dialect_of, run_suites


@pytest.mark.parametrize("dialect", ["azure", "v1"])
def test_default_suite_passes_under_dialect(dialect):
    status, messages, output = run_suites("--dialect", dialect, "-n", "2")
    assert status, f"no checks ran:\n{output}"
    bad = {c: s for c, s in status.items()
           if s not in ("pass", "skip") and not (s == "unsupported" and dialect_of(c) not in (dialect, "openai"))}
    assert not bad, f"checks not passing under --dialect {dialect}:\n" + "\n\n".join(
        f"{c} {s}: {messages.get(c, '')[:1500]}" for c, s in sorted(bad.items()))
    own = sorted(c for c in status if dialect_of(c) == dialect)
    assert own and all(status[c] == "pass" for c in own), {c: status[c] for c in own}
