"""Reading answer bodies within their bounds, and putting what an answer said into words."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from . import redact
from .deadlines import within
from .failures import broken
from .sse import ChunkTimeout, StreamBroken



class Capture:
    """The first `limit` bytes of a stream, for evidence."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if room > 0:
            self.parts.append(chunk[:room])
            self.size += min(room, len(chunk))
        self.dropped += max(0, len(chunk) - max(room, 0))

    def bytes(self) -> bytes:
        data = b"".join(self.parts)
        return data + (f"\n... [{self.dropped} more bytes]".encode() if self.dropped else b"")


def chunk_reader(response: httpx.Response, raw: Capture) -> Callable[[float], bytes | None]:
    chunks: Iterator[bytes] = response.iter_bytes()

    def read_chunk(deadline: float) -> bytes | None:
        try:
            with within(deadline):
                chunk = next(chunks)
        except StopIteration:
            return None
        except httpx.TimeoutException:
            raise ChunkTimeout from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise StreamBroken(broken(exc)) from None
        raw.add(chunk)
        return chunk

    return read_chunk


def read_capped(response: httpx.Response, cap: int) -> bytes | None:
    parts, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
    return b"".join(parts)


def read_prefix(response: httpx.Response, cap: int) -> bytes:
    """Up to `cap` bytes of the body; stops quietly at the cap, the deadline or a broken connection."""
    parts, size = [], 0
    try:
        for chunk in response.iter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size >= cap:
                break
    except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError):
        pass
    return b"".join(parts)[:cap]


def parse_json(body: bytes, content_type: str | None) -> tuple[Any, str | None]:
    if not body.strip():
        return None, "empty body"
    try:
        return jsonlib.loads(body), None
    except ValueError as exc:
        return None, f"body is not JSON ({exc}); content-type {content_type or '(none)'!r}"


def error_answer(status: int | None, parsed: Any, body: bytes | str | None, *, instead: str = "") -> str:
    """What an answer that is not the expected object said, in words: "answered 404 with an error: No such
    run" (`instead`, e.g. ", not a stream", goes after "with an error"); redacted."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    error = parsed.get("error") if isinstance(parsed, dict) else None
    said = error.get("message") if isinstance(error, dict) else None
    if not isinstance(said, str) or not said.strip():
        said = (body or "").strip()[:200] or "(empty body)"
    if status is None or status < 400:
        return redact.redact_text(f"answered {status} without a JSON object{instead}: {said}") or ""
    return redact.redact_text(f"answered {status} with an error{instead}: {said}") or ""


def evidence_text(body: bytes | None, limit: int) -> str | None:
    if not body:
        return None
    text = redact.redact_text(body.decode("utf-8", "replace")) or ""
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"
