"""Fixtures of the limit checks."""

from __future__ import annotations

import functools

import pytest

PROMPT = "Say hello in one short sentence."


class Scratch:
    """Objects a check makes once, on first use, and reuses in all its hypothesis examples
    (hypothesis runs every example inside one call of the test, with the same fixtures)."""

    def __init__(self, factory):
        self.factory = factory

    @functools.cached_property
    def assistant_id(self) -> str:
        return self.factory.assistant()["id"]

    @functools.cached_property
    def thread_id(self) -> str:
        return self.fresh_thread_id()

    def fresh_thread_id(self) -> str:
        """A new thread with one user message: a run accepted on it locks only this thread."""
        return self.factory.thread(messages=[{"role": "user", "content": PROMPT}])["id"]


@pytest.fixture
def scratch(factory) -> Scratch:
    return Scratch(factory)
