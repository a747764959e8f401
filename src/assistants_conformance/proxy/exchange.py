"""One exchange as the judges see it, live (app.py fills it as bytes pass) or replayed from a HAR file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..wire.redact import redact_headers, redact_text, redact_url

MAX_BODY = 4 * 1024 * 1024  # bytes of one body kept for judging and recording (what passes is never cut)
EVIDENCE_BODY = 16384  # characters of a body shown in a finding's evidence
RETAINED_BODY = 8192  # bytes of a body kept once judged (evidence for a finding a later exchange makes)


@dataclass(slots=True, eq=False)
class Observed:
    seq: int
    method: str
    url: str  # the target URL the request went to
    path: str  # request path (no query)
    request_headers: dict[str, str]
    request_body: bytes
    started: float  # epoch seconds: request received
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    headers_at: float | None = None  # epoch seconds: response headers arrived
    body: bytearray = field(default_factory=bytearray)
    body_bytes: int = 0  # bytes that passed (body keeps at most MAX_BODY of them)
    ended: float | None = None  # epoch seconds: the exchange ended (body complete, broken or abandoned)
    error: str | None = None  # how it ended when not cleanly: "target closed ...", "client disconnected"
    client_gone: bool = False  # the client hung up first: the ending says nothing about the target
    lost: bool = False  # some of its judging was dropped (queue full): judge nothing more of it
    judging: Any = None  # the judge's per-exchange state (stream judging)

    def keep(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        room = MAX_BODY - len(self.body)
        if room > 0:
            self.body += chunk[:room]

    def settle(self) -> None:
        """Judged: keep only what evidence of a later finding may show (the state may hold on to it)."""
        if len(self.body) > RETAINED_BODY:
            del self.body[RETAINED_BODY:]
        if len(self.request_body) > RETAINED_BODY:
            self.request_body = self.request_body[:RETAINED_BODY]

    @property
    def truncated(self) -> bool:
        return self.body_bytes > len(self.body)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").lower()

    @property
    def is_stream(self) -> bool:
        return "text/event-stream" in self.content_type

    def request_json(self) -> Any:
        if not self.request_body:
            return None
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    def evidence(self, body_limit: int = EVIDENCE_BODY) -> dict:
        """A reports.evidence exchange dict, redacted, bodies clipped."""
        elapsed = (self.ended or self.headers_at or self.started) - self.started
        return {
            "kind": "exchange", "method": self.method, "url": redact_url(self.url),
            "request_headers": redact_headers(self.request_headers),
            "request_body": _clip(self.request_body, body_limit) if self.request_body else None,
            "status": self.status, "response_headers": redact_headers(self.response_headers),
            "response_body": _clip(bytes(self.body), body_limit) if self.body else None,
            "started": self.started, "elapsed": round(elapsed, 6), "error": self.error,
        }


def _clip(data: bytes, limit: int) -> str:
    text = redact_text(data.decode("utf-8", "replace"))
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"
