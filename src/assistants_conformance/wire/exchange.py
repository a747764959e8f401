"""What one HTTP exchange with the target leaves behind: the redacted Exchange (evidence), the Response
checks read, and TargetError for a target that could not be talked to."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import httpx


class TargetError(Exception):
    """The target could not be talked to: unreachable, no answer in time, connection broken."""

    def __init__(self, method: str, url: str, reason: str, exchange: Exchange | None = None):
        super().__init__(f"{method} {url}: {reason}")
        self.method, self.url, self.reason, self.exchange = method, url, reason, exchange
        self.retryable = False  # a connect failure: the request never reached the target


@dataclass
class Exchange:
    """One HTTP exchange as recorded evidence. Already redacted: safe to print and to store."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None  # None when no response arrived
    response_headers: dict[str, str]
    response_body: str | None  # for a stream: the raw event text received (bounded)
    started: float  # wall clock (epoch seconds) when the request was sent
    elapsed: float  # seconds until the response was complete, or the failure
    error: str | None = None  # what went wrong in plain words, or None

    def summary(self) -> str:
        outcome = self.status if self.status is not None else f"no response: {self.error}"
        return f"{self.method} {self.url} -> {outcome} ({self.elapsed * 1000:.0f} ms)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Response:
    status_code: int
    headers: httpx.Headers  # as received (the exchange holds the redacted copy)
    content: bytes
    text: str
    json: Any  # the parsed body; None when empty or not JSON (then json_error says why)
    json_error: str | None
    exchange: Exchange
    elapsed: float
