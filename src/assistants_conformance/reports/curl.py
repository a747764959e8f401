"""A recorded exchange as a curl command a person can copy to reproduce it.

Recorded exchanges are already redacted: a credential shows as [REDACTED]. Here it becomes a shell
variable ($OPENAI_API_KEY) so that the line runs as is once the variable is set, and no secret is ever
printed.
"""

from __future__ import annotations

import shlex

from ..wire.redact import REDACTED

# Headers the transport adds by itself, or that would make curl's answer differ from what was recorded.
SKIP_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent",
                          "transfer-encoding"})
KEY_VARIABLE = "$OPENAI_API_KEY"
MAX_BODY = 8000  # characters of a request body put on the line (larger bodies are cut, and said so)


def curl_command(exchange: dict) -> str:
    """`curl -sS -X METHOD 'URL' -H ... --data-raw '...'` for an exchange dict (reports/evidence.py)."""
    method = str(exchange.get("method") or "GET").upper()
    url = _with_key(str(exchange.get("url") or ""))
    parts = ["curl", "-sS"]
    if method != "GET":
        parts += ["-X", method]
    parts.append(_quote(url))
    headers = exchange.get("request_headers") or {}
    for name, value in headers.items():
        if name.lower() in SKIP_HEADERS:
            continue
        parts += ["-H", _quote(f"{name}: {_with_key(str(value))}")]
    body = exchange.get("request_body")
    if body:
        content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
        if content_type.startswith("multipart/"):
            parts.append("# multipart body not reproduced: upload the file again with -F file=@PATH -F purpose=...")
        else:
            text = body if len(body) <= MAX_BODY else body[:MAX_BODY]
            parts += ["--data-raw", _quote(text)]
            if len(body) > MAX_BODY:
                parts.append(f"# body cut at {MAX_BODY} of {len(body)} characters")
    return " ".join(parts)


def _with_key(text: str) -> str:
    """A redacted credential becomes the shell variable holding it."""
    return text.replace(REDACTED, KEY_VARIABLE)


def _quote(text: str) -> str:
    # A redacted key must stay expandable: quote around the variable, not over it.
    pieces = text.split(KEY_VARIABLE)
    return '"$OPENAI_API_KEY"'.join(shlex.quote(p) if p else "" for p in pieces) if len(pieces) > 1 \
        else shlex.quote(text)
