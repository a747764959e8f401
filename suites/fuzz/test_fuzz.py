"""Generated requests against the contract: valid ones (positive) and ones that break it (negative,
malformed bodies included), on every operation the target's profile supports, with real object ids.

Budget: ASSISTANTS_CONFORMANCE_FUZZ_EXAMPLES examples per operation and mode (see fuzz_campaign.py).
"""

from __future__ import annotations

import re

import pytest
from fuzz_campaign import (
    MALFORMED_JSON_CHECK,
    SHOWN,
    UNKNOWN_FIELD_CHECK,
    Campaign,
    Outcome,
    failures_of,
    report_failures,
)

from assistants_conformance.checks import violation


def id_problem_kind(problems: list[str]) -> str:
    """The id problems of one answer without the ids themselves, so that answers group by problem."""
    return "; ".join(sorted({re.sub(r" '[^']*' does not", " does not", p) for p in problems}))


def _failures(campaign: Campaign, *checks: str) -> list[tuple[Outcome, str, str]]:
    return failures_of(campaign.outcomes, *checks)


def _require_traffic(campaign: Campaign) -> None:
    if not campaign.outcomes:
        violation("the campaign generated no request at all (no operation supported?)", campaign.unsatisfiable)


@pytest.mark.check("FUZZ-001")
@pytest.mark.varies("its requests are generated at random (schemathesis): a different sample each run")
@pytest.mark.level("MUST")
def test_no_server_errors(positive_campaign, negative_campaign):
    """No request, valid or not (wrong types, broken limits, malformed JSON), is answered with a 5xx status.

    A server error is never the right answer to client input: the API reports bad requests as 400.
    """
    _require_traffic(negative_campaign)
    failing = _failures(positive_campaign, "not_a_server_error") + _failures(negative_campaign, "not_a_server_error")
    report_failures(failing, "were answered with a server error (5xx)")


@pytest.mark.check("FUZZ-002")
@pytest.mark.varies("its requests are generated at random (schemathesis): a different sample each run")
@pytest.mark.level("MUST")
def test_valid_requests_get_contract_answers(positive_campaign):
    """Every answer to a valid request has a documented status code, the documented content type and a body that matches the contract's schema for that status.

    Contract: specs/assistants-v2.openapi.yaml (object types, integer Unix timestamps, required fields).
    """
    _require_traffic(positive_campaign)
    failing = _failures(positive_campaign, "status_code_conformance", "content_type_conformance",
                        "response_schema_conformance")
    report_failures(failing, "got answers that break the contract")


@pytest.mark.check("FUZZ-003")
@pytest.mark.varies("its requests are generated at random (schemathesis): a different sample each run")
@pytest.mark.level("MUST")
def test_invalid_requests_rejected(negative_campaign):
    """A request that breaks the contract (wrong type, unknown field, broken limit, malformed JSON) is rejected with 400 (404 for an unknown object) and the error envelope, never accepted.

    API reference, "Error codes": 400 invalid_request_error with {"error": {message, type, param, code}}.
    """
    _require_traffic(negative_campaign)
    failing = _failures(negative_campaign, "negative_data_rejection", UNKNOWN_FIELD_CHECK, MALFORMED_JSON_CHECK,
                        "status_code_conformance",
                        "content_type_conformance", "response_schema_conformance")
    report_failures(failing, "breaking the contract were not rejected as documented")


@pytest.mark.check("FUZZ-004")
@pytest.mark.varies("its requests are generated at random (schemathesis): a different sample each run")
@pytest.mark.level("SHOULD")
def test_ids_carry_prefixes(positive_campaign):
    """Object ids carry OpenAI's prefix for their type (asst_, thread_, msg_, run_, step_, vs_, file-), in objects and in references to them.

    Clients and SDKs tell ids apart by prefix; OpenAI's API reference shows every id with its prefix.
    """
    answered = [o for o in positive_campaign.outcomes if o.status == 200]
    if not answered:
        violation("no generated valid request was answered 200, so no id could be checked",
                  [o.evidence for o in positive_campaign.outcomes[:SHOWN]])
    failing = [(o, id_problem_kind(o.id_problems), "; ".join(o.id_problems[:3])) for o in answered if o.id_problems]
    report_failures(failing, "were answered with ids lacking their prefix")
