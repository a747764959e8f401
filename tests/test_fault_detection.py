"""Every check is proven: it passes against the clean reference server and fails against a server with
the fault it is meant to catch (tests/faults/*.yaml). The full fault x check matrix runs with --fault-matrix.
"""

from __future__ import annotations

import pytest

from assistants_conformance.reference.faults import FAULTS

from fault_matrix import by_dialect, catalog, checks_by_fault, declared_check_ids, dialect_of, run_suites

BY_FAULT = checks_by_fault()


def test_every_check_has_a_fault():
    listed = catalog()
    declared = declared_check_ids()
    no_fault = sorted(c for c in declared if not listed.get(c))
    assert not no_fault, f"checks with no fault that makes them fail: {no_fault}"
    stale = sorted(set(listed) - declared)
    assert not stale, f"catalog names checks that do not exist: {stale}"


def test_catalog_names_real_faults():
    unknown = sorted(f for f in BY_FAULT if f not in FAULTS)
    assert not unknown, f"catalog names faults the reference server does not have: {unknown}"


def test_clean_reference_server_passes_every_check():
    """The whole suite, pointed with --target-url at a separately started reference server (the fault
    runs below cover the embedded server the plugin starts itself)."""
    from assistants_conformance.wire.config import load_profile
    from assistants_conformance.launcher import ReferenceServer

    profile = load_profile("reference")
    keys = ("sk-clean-run-first-0123456789", "sk-clean-run-second-0123456789")
    with ReferenceServer(api_keys=keys, run_expiry_seconds=profile.expiry_window_seconds,
                         token_delay_ms=2, extra_args=profile.reference_server_args()) as server:
        status, messages, output = run_suites(
            "--target-url", server.base_url, "--api-key", keys[0], "--second-api-key", keys[1],
            "--profile", "reference", "-n", "2")
    # Checks of another dialect's own rules are reported unsupported here (tests/test_dialect_suites.py runs them).
    bad = {c: s for c, s in status.items()
           if s not in ("pass", "skip") and not (s == "unsupported" and dialect_of(c) != "openai")}
    assert status, f"no checks ran:\n{output}"
    assert not bad, "checks not passing against the clean reference server:\n" + "\n\n".join(
        f"{c} {s}: {messages.get(c, '')[:1500]}" for c, s in sorted(bad.items()))


@pytest.mark.parametrize("fault", sorted(BY_FAULT))
def test_fault_is_caught_by_its_checks(fault):
    expected = BY_FAULT[fault]
    status, messages, output = {}, {}, ""
    for dialect, check_ids in by_dialect(expected).items():  # each check under the dialect it is about
        args = ["--reference-fault", fault, "--dialect", dialect]
        for check_id in check_ids:
            args += ["--check", check_id]
        got_status, got_messages, got_output = run_suites(*args)
        status.update({c: got_status.get(c, "not run") for c in check_ids})
        messages.update(got_messages)
        output += got_output
    missed = sorted(c for c in expected if status.get(c) != "fail")
    assert not missed, (
        f"fault {fault!r} was not caught by {missed} "
        f"(statuses: { {c: status.get(c, 'not run') for c in missed} })\n{output}")
    for check_id in expected:
        # The failure names the rule: "[ID LEVEL] rule".
        assert messages[check_id].lstrip().startswith(f"[{check_id} "), messages[check_id][:500]
