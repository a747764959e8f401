"""Preflight: one look at the target before any check runs, so a wrong setup is one line, not a suite of
false failures.

In order: is the target reachable, does it take the credentials given (a target answering 401 to a
request without a key wants one; 401 to the given key refuses it), and does the dialect's list endpoint
answer at the base URL (a 404 means the base URL is wrong). A target that accepts requests without a key
passes preflight: whether it should is what the auth checks judge.

The pytest plugin calls `preflight` in the controller before xdist starts a worker, and `run` before it
starts pytest; a target that passed once in a process is not probed again.
"""

from __future__ import annotations

from .wire.client import ConformanceClient, TargetError
from .wire.config import TargetConfig, key_sources

PROBE_PATH = "/assistants"  # every dialect lists assistants
PROBE_TIMEOUT = 10.0  # seconds, at most (the profile's request_timeout when shorter)

_passed: set[TargetConfig] = set()


class PreflightError(Exception):
    """The target cannot be tested as configured; the message is one line saying why and what to do."""


def preflight(config: TargetConfig) -> None:
    """Raise PreflightError naming the first problem; return quietly when the target can be tested."""
    if config in _passed:
        return
    timeout = min(PROBE_TIMEOUT, config.profile.request_timeout)
    probes = [(config.api_key, "the API key", key_sources(config.dialect, "api_key"))]
    if config.second_api_key:
        probes.append((config.second_api_key, "the second API key", key_sources(config.dialect, "second_api_key")))
    with ConformanceClient(config, api_key=None) as anonymous:
        for number, (key, what, sources) in enumerate(probes):
            try:
                response = anonymous.with_api_key(key).get(PROBE_PATH, params={"limit": 1}, timeout=timeout)
            except TargetError as exc:
                raise PreflightError(f"target unreachable: {exc}") from None
            answered = f"(GET {response.exchange.url} answered {response.status_code})"
            if response.status_code == 401 and key is None:
                raise PreflightError(f"target wants an API key: pass {sources} {answered}")
            if response.status_code == 401:
                raise PreflightError(f"target refused {what}: check {sources} {answered}")
            if response.status_code == 404 and number == 0:
                raise PreflightError(f"nothing answers at {config.base_url}: is the {_base_hint(config.dialect)} "
                                     f"right? {answered}")
    _passed.add(config)


def stop_line(config: TargetConfig) -> str | None:
    """The one line that stops a session whose target cannot be tested as configured; None to go on (also
    for the embedded reference server, which has no base URL until the session starts it)."""
    if not config.base_url:
        return None
    try:
        preflight(config)
    except PreflightError as exc:
        return f"assistants-conformance: {exc}"
    return None


def _base_hint(dialect: str) -> str:
    if dialect == "azure":
        return "endpoint (https://RESOURCE.openai.azure.com) or --api-version"
    return "base URL (the API base with its path, e.g. http://127.0.0.1:8000/v1)"
