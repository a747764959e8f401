"""Azure OpenAI's own rules: the api-version query parameter is required and checked, the api-key header
authenticates, and no OpenAI-Beta header is needed. Run with --dialect azure."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from assistants_conformance.checks import require, violation
from assistants_conformance.protocol.errors import error_envelope_problems
from assistants_conformance.outcomes import unsupported

pytestmark = pytest.mark.dialect("azure")

UNKNOWN_API_VERSION = "1999-01-01-preview"  # no Azure version has this date


def _with_api_version(client, path: str, version: str | None) -> str:
    """The absolute URL of `path` with the api-version replaced by `version` (None: left out)."""
    parts = urlsplit(client.url(path))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "api-version"]
    if version is not None:
        query.append(("api-version", version))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _refused(response, what: str) -> None:
    if response.status_code not in (400, 404):
        violation(f"{what}: expected 400 or 404 with the error envelope, got {response.status_code}",
                  [response.exchange])
    problems = error_envelope_problems(response.json)
    if problems:
        violation(f"{what}: the {response.status_code} answer is not in the error envelope: {'; '.join(problems)}",
                  [response.exchange])


@pytest.mark.check("AZURE-001")
@pytest.mark.level("MUST")
def test_missing_api_version_is_refused(client, factory):
    """A request without the api-version query parameter is refused with 400 or 404 and the error envelope, and changes nothing.

    Azure OpenAI REST reference: api-version is a required query parameter of every operation.
    """
    _refused(client.get(_with_api_version(client, "/assistants", None)), "GET /assistants without api-version")
    before = factory.thread()
    response = client.post(_with_api_version(client, f"/threads/{before['id']}", None),
                           json={"metadata": factory.tag({"changed": "yes"})})
    _refused(response, "POST /threads/{thread_id} without api-version")
    after = client.get(f"/threads/{before['id']}")
    require(after.status_code == 200 and (after.json or {}).get("metadata", {}).get("changed") is None,
            "a modify request without api-version was refused but changed the thread anyway", [after.exchange])


@pytest.mark.check("AZURE-002")
@pytest.mark.level("MUST")
def test_unknown_api_version_is_refused(client, factory):
    """A request naming an api-version the service does not have is refused with 400 or 404 and the error envelope.

    Azure answers an unsupported api-version with an error (404 Resource not found, or 400), never a result;
    the requests here would succeed with a real version (a list, and an existing thread).
    """
    thread = factory.thread()
    for path in ("/assistants", f"/threads/{thread['id']}"):
        response = client.get(_with_api_version(client, path, UNKNOWN_API_VERSION))
        _refused(response, f"GET {path} with api-version={UNKNOWN_API_VERSION}")


@pytest.mark.check("AZURE-003")
@pytest.mark.level("MUST")
def test_api_key_header_authenticates(target, anonymous_client):
    """The api-key header alone (no Authorization header) authenticates a request; a wrong api-key is answered 401 with the error envelope.

    Azure OpenAI authenticates with `api-key: KEY` (or an Entra ID token as a bearer token).
    """
    if target.config.bearer_token or not target.config.api_key:
        unsupported("the harness was given an Entra ID token, not an API key")
    good = anonymous_client.get("/assistants", params={"limit": 1}, headers={"api-key": target.config.api_key})
    require("authorization" not in {k.lower() for k in good.exchange.request_headers},
            "harness: the api-key request also carried an Authorization header", [good.exchange])
    require(good.status_code == 200, f"a request with the right api-key header (and no Authorization header) "
            f"should succeed, got {good.status_code}", [good.exchange])
    wrong = anonymous_client.get("/assistants", params={"limit": 1}, headers={"api-key": "wrong-conformance-key-0"})
    require(wrong.status_code == 401, f"a wrong api-key should be answered 401, got {wrong.status_code}",
            [wrong.exchange])
    problems = error_envelope_problems(wrong.json)
    require(not problems, f"the 401 answer is not in the error envelope: {'; '.join(problems)}", [wrong.exchange])


@pytest.mark.check("AZURE-004")
@pytest.mark.level("MUST")
def test_no_beta_header_needed(client, factory):
    """Requests without an OpenAI-Beta header succeed: Azure does not use the header.

    Covers creating an assistant and a thread, and listing the thread's messages.
    """
    assistant = factory.post_assistant({"model": factory.model, "metadata": factory.tag()})
    thread = factory.post_thread({"metadata": factory.tag()})
    for response, what in ((assistant, "create an assistant"), (thread, "create a thread")):
        require("openai-beta" not in {k.lower() for k in response.exchange.request_headers},
                "harness: the azure dialect sent an OpenAI-Beta header", [response.exchange])
        require(response.status_code == 200,
                f"{what} without an OpenAI-Beta header should succeed, got {response.status_code}",
                [response.exchange])
    listed = client.get(f"/threads/{thread.json['id']}/messages")
    require(listed.status_code == 200, f"listing messages without an OpenAI-Beta header should succeed, "
            f"got {listed.status_code}", [listed.exchange])
