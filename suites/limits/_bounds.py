"""Hypothesis settings and value builders shared by the limit checks.

Each limit check draws one value inside the documented bound and one past it per example; the exact
boundary (e.g. length 256 and 257) is always tried through `@example`. Examples are few and never
shrunk: every example is real HTTP against the target, and the first failing one is the evidence.
"""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import strategies as st

from assistants_conformance.checks import require
from assistants_conformance.flows import expect_error, http_examples


# Every example is real HTTP: few examples, never shrunk (see flows.http_examples).
examples = http_examples


# Plain ASCII so that "length" means the same in characters, code points and bytes on any server.
SEED_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=8)


def text_of(length: int, seed: str) -> str:
    """A string of exactly `length` characters made by repeating `seed` (long strings stay cheap to draw)."""
    return (seed * (length // len(seed) + 1))[:length]


def function_tools(count: int) -> list[dict]:
    """`count` distinct, valid function tools."""
    return [
        {"type": "function", "function": {"name": f"conformance_fn_{i}", "description": "Unused by the checks.",
                                          "parameters": {"type": "object", "properties": {}}}}
        for i in range(count)
    ]


def check_bound(send: Callable[[Any], Any], field: str, inside: Any, past: Any, describe: Callable[[Any], str]) -> None:
    """`send(past)` must be a 400 whose error.param names `field`; then `send(inside)` must be accepted (200).
    The value past the bound goes first, so a target that rejects it leaves nothing behind (no run
    locking the thread the accepted value is sent to)."""
    expect_error(send(past), 400, param=field, sent=f"{field} = {describe(past)}")
    accepted = send(inside)
    require(
        accepted.status_code == 200,
        f"{field} = {describe(inside)} is within the documented limit but was answered {accepted.status_code}",
        [accepted.exchange],
    )


# Numbers a JSON encoder writes exactly: no NaN/infinity (not JSON), bounded magnitude.
def numbers_within(low: float, high: float, **kw):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kw)


def numbers_outside(low: float, high: float):
    """Numbers outside [low, high]: just past either end, or far off."""
    return st.one_of(numbers_within(high, high + 1_000, exclude_min=True),
                     numbers_within(low - 1_000, low, exclude_max=True))


def number(value: float) -> str:
    return repr(value)


def chars(value: str) -> str:
    return f"a {len(value)}-character string"


def items(value: list) -> str:
    return f"an array of {len(value)} items"
