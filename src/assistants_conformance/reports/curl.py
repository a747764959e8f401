"""A recorded exchange as a curl command line that repeats the request, secrets as shell placeholders.

    curl_command({"method": "POST", "url": "http://127.0.0.1:8000/v1/threads", "request_headers": {...},
                  "request_body": "{}"})
    -> curl -X POST 'http://127.0.0.1:8000/v1/threads' -H "Authorization: Bearer $OPENAI_API_KEY" ... --data-raw '{}'

Hand-written (a few lines): no maintained library turns a request record into a shell-safe curl line.
"""

from __future__ import annotations

import shlex
from typing import Any

from ..redact import REDACTED, redact_headers, redact_text, redact_url

# Credential headers and the environment variable the command line names instead of their value.
PLACEHOLDERS = {"authorization": "OPENAI_API_KEY", "api-key": "AZURE_OPENAI_API_KEY"}
OTHER_SECRET = "SECRET"
# Headers curl sets itself, or that do not change what the target answers.
LEFT_OUT = frozenset({"content-length", "host", "accept-encoding", "connection", "user-agent", "accept",
                      "x-schemathesis-testcaseid"})


def curl_command(exchange: dict[str, Any]) -> str:
    """One line of shell: method, URL, headers and body of `exchange` (an evidence "exchange" dict or
    anything with method, url, request_headers, request_body), redacted; a hidden credential becomes
    "$OPENAI_API_KEY" (Authorization), "$AZURE_OPENAI_API_KEY" (api-key) or "$SECRET", left for the
    shell to fill in."""
    parts = ["curl", "-X", shlex.quote(str(exchange.get("method") or "GET")),
             shlex.quote(redact_url(str(exchange.get("url") or "")))]
    for name, value in redact_headers(dict(exchange.get("request_headers") or {})).items():
        if name.lower() in LEFT_OUT:
            continue
        line = redact_text(f"{name}: {value}") or ""
        if REDACTED in line:
            variable = PLACEHOLDERS.get(name.lower(), OTHER_SECRET)
            # Double quotes so that the shell expands the placeholder; nothing else in the line is special.
            line = line.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
            parts += ["-H", '"' + line.replace(REDACTED, "$" + variable) + '"']
        else:
            parts += ["-H", shlex.quote(line)]
    body = exchange.get("request_body")
    if body:
        parts += ["--data-raw", shlex.quote(redact_text(str(body)) or "")]
    return " ".join(parts)
