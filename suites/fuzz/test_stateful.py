"""Chains of calls along the contract's OpenAPI links, each later call using ids from earlier answers.

Budget: 6 x ASSISTANTS_CONFORMANCE_FUZZ_EXAMPLES scenarios of up to 6 steps (see fuzz_stateful.py).
"""

from __future__ import annotations

import pytest
from fuzz_campaign import SHOWN, failures_of, report_failures
from fuzz_stateful import StatefulRun

from assistants_conformance.checks import violation

CHECKED = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
           "response_schema_conformance", "use_after_free", "ensure_resource_availability")


@pytest.mark.check("FUZZ-005")
@pytest.mark.varies("its linked request chains are generated at random (schemathesis): a different sample each run")
@pytest.mark.level("MUST")
def test_linked_chains_get_contract_answers(stateful_run: StatefulRun):
    """Along chains of linked operations (create, then read, modify, list, cancel, delete what was created) every answer is a documented status with the documented content type and a body matching the contract, never a 5xx; a created object can be read back, a deleted one is gone.

    Contract: the `links` of specs/assistants-v2.openapi.yaml; API reference, "Error codes".
    """
    print(stateful_run.report())  # shown with -rP: how much the run really chained
    linked = stateful_run.linked_steps()
    if not linked:
        violation("no step of the stateful run sent an id taken from an earlier answer, so no link was "
                  f"followed ({stateful_run.summary()}); the first answers were:",
                  [o.evidence for o in stateful_run.outcomes[:SHOWN]])
    failing = failures_of(stateful_run.outcomes, *CHECKED)
    report_failures(failing, f"along linked chains got answers that break the contract ({stateful_run.summary()})")
