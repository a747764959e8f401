"""Object ids (with OpenAI's prefixes) and timestamps (integer Unix seconds)."""

from __future__ import annotations

import random
import time
import uuid

PREFIXES = {
    "assistant": "asst_",
    "thread": "thread_",
    "message": "msg_",
    "run": "run_",
    "step": "step_",
    "call": "call_",
    "file": "file-",
    "vector_store": "vs_",
    "file_batch": "vsfb_",
}
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class IdFactory:
    def __init__(self, unprefixed: bool = False) -> None:
        self._unprefixed = unprefixed

    def new(self, kind: str) -> str:
        if self._unprefixed:
            return uuid.uuid4().hex
        # 24 random base62 characters, like OpenAI's ids (uniqueness, not secrecy, is what matters here).
        return PREFIXES[kind] + "".join(random.choices(_ALPHABET, k=24))


class Clock:
    """Wall-clock time that never goes backwards, so insertion order is also created_at order."""

    def __init__(self, float_timestamps: bool = False) -> None:
        self._float = float_timestamps
        self._last = 0.0

    def now(self) -> int | float:
        self._last = max(self._last, time.time())
        return self._last if self._float else int(self._last)
