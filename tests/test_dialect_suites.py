"""The whole default suite runs unchanged under the azure and v1 dialects against the reference server:
every check passes, except checks marked for other dialects and checks needing a capability or operation the
dialect lacks (azure: files, message delete; v1: vector stores, file_search), which are reported unsupported; the
dialect's own checks (AZURE-*, V1-*) really ran and passed."""

from __future__ import annotations

import pytest

from assistants_conformance.wire.dialects import get_dialect

from fault_matrix import dialect_of, run_suites


@pytest.mark.parametrize("dialect", ["azure", "v1"])
def test_default_suite_passes_under_dialect(dialect):
    missing = get_dialect(dialect).missing_capabilities
    status, messages, output = run_suites("--dialect", dialect, "-n", "2")
    assert status, f"no checks ran:\n{output}"

    def expected_unsupported(check_id: str) -> bool:
        """A check marked for other dialects, or one whose reason is what this dialect lacks (a capability
        it cannot have, or an operation it does not serve)."""
        reason = messages.get(check_id, "")
        return (f"the target speaks {dialect}" in reason or f"the {dialect} dialect has no" in reason
                or any(f"the {capability!r} capability" in reason for capability in missing))

    bad = {c: s for c, s in status.items()
           if s not in ("pass", "skip") and not (s == "unsupported" and expected_unsupported(c))}
    assert not bad, f"checks not passing under --dialect {dialect}:\n" + "\n\n".join(
        f"{c} {s}: {messages.get(c, '')[:1500]}" for c, s in sorted(bad.items()))
    own = sorted(c for c in status if dialect_of(c) == dialect)
    assert own and all(status[c] == "pass" for c in own), {c: status[c] for c in own}
