"""Secret redaction for everything the harness records (exchanges, reports, failure text).

Two layers:
* by name: the values of credential headers (Authorization, api-key, cookies, ...) and credential
  query parameters are replaced, whatever they hold;
* by value: every secret registered with `register_secret` (the configured API keys, keys the
  plugin generates) is replaced wherever it appears: URL, any header, any body.

The registry is process-wide on purpose: a key registered once is hidden in every later record,
including ones made by code that never saw the configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

# Header names (lower case) whose value is a credential, whatever it holds.
SENSITIVE_HEADERS = frozenset({
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
})

# Query parameters (lower case) that carry credentials in some dialects (Azure SAS, api-key).
SENSITIVE_PARAMS = frozenset({"api-key", "api_key", "key", "access_token", "token", "sig"})

# Shorter strings are not plausible secrets and replacing them everywhere would shred the evidence.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Hide `value` (and its URL-encoded form) in everything redacted from now on."""
    global _secrets
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, quote(value, safe="")}
    with _lock:
        # Longest first, so a secret that contains another is replaced whole.
        _secrets = tuple(sorted(set(_secrets) | forms, key=len, reverse=True))


def registered_secrets() -> tuple[str, ...]:
    return _secrets


def redact_text(text: str | None) -> str | None:
    """Replace every registered secret in `text`."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_header_value(name: str, value: str) -> str:
    if name.lower() not in SENSITIVE_HEADERS:
        return redact_text(value) or value
    # Keep the scheme ("Bearer") as evidence of how the credential was sent, never the credential.
    scheme, sep, _ = value.partition(" ")
    if sep and scheme.isalpha() and len(scheme) <= 16:
        return f"{scheme} {REDACTED}"
    return REDACTED


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A plain dict copy of `headers` with credentials replaced (repeated names joined with ', ')."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        value = _redact_header_value(name, value)
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def redact_url(url: str) -> str:
    """`url` with credential query parameters, user info and registered secrets replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SENSITIVE_PARAMS for k, _ in pairs):
            query = urlencode([(k, REDACTED if k.lower() in SENSITIVE_PARAMS else v) for k, v in pairs],
                              safe="[]")
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))) or ""
