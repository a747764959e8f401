"""Redaction: credential headers by name, credential query parameters, registered secrets anywhere."""

from __future__ import annotations

from assistants_conformance.wire import redact


def test_credential_headers_by_name_keep_only_the_scheme():
    headers = redact.redact_headers({"Authorization": "Bearer sk-anything", "api-key": "abc",
                                     "Cookie": "session=1", "OpenAI-Organization": "org-1",
                                     "Content-Type": "application/json"})
    assert headers == {"Authorization": "Bearer [REDACTED]", "api-key": "[REDACTED]", "Cookie": "[REDACTED]",
                       "OpenAI-Organization": "[REDACTED]", "Content-Type": "application/json"}


def test_repeated_headers_are_joined():
    assert redact.redact_headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X", "1")]) == {
        "Set-Cookie": "[REDACTED], [REDACTED]", "X": "1"}


def test_registered_secret_is_replaced_everywhere():
    secret = "sk-registered-abc123/+="
    redact.register_secret(secret)
    assert redact.redact_text(f'{{"note": "{secret}"}}') == '{"note": "[REDACTED]"}'
    assert redact.redact_headers({"X-Echo": f"k={secret}"}) == {"X-Echo": "k=[REDACTED]"}
    encoded = "sk-registered-abc123%2F%2B%3D"
    assert redact.redact_url(f"http://h/v1/x?q={encoded}") == "http://h/v1/x?q=[REDACTED]"


def test_urls_lose_credential_parameters_and_user_info():
    url = redact.redact_url("https://user:pw@h.example/openai/x?api-version=2024&api-key=abc&limit=1")
    assert url == "https://[REDACTED]@h.example/openai/x?api-version=2024&api-key=[REDACTED]&limit=1"


def test_short_values_are_not_treated_as_secrets():
    redact.register_secret("ab")
    redact.register_secret(None)
    assert redact.redact_text("about abacus") == "about abacus"
