"""Assistant body limits: name <= 256, description <= 512, instructions <= 256,000 characters, at most 128
tools, temperature in [0, 2], top_p in [0, 1] (API reference, "Create assistant").

Each example sends one value past the bound (400 whose error.param names the field, or a path inside it,
e.g. "tools[128]") and one inside it (accepted: 200). Strings are plain ASCII, so characters = bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ._bounds import (SEED_TEXT, chars, check_bound, examples, function_tools, items, number, numbers_outside,
                      numbers_within, text_of)


def _send(factory, field):
    def send(value):
        return factory.post_assistant({"model": factory.model, "metadata": factory.tag(), field: value})
    return send


def _string_bound(factory, field, inside, past, seed):
    check_bound(_send(factory, field), field, text_of(inside, seed), text_of(past, seed), chars)


@pytest.mark.check("LIMIT-010")
@pytest.mark.level("MUST")
@examples(4)
@given(inside=st.integers(0, 256), past=st.integers(257, 2_000), seed=SEED_TEXT)
@example(inside=256, past=257, seed="n")
def test_assistant_name_length(factory, inside, past, seed):
    """An assistant name of up to 256 characters is accepted and a longer one is rejected with 400 naming name."""
    _string_bound(factory, "name", inside, past, seed)


@pytest.mark.check("LIMIT-011")
@pytest.mark.level("MUST")
@examples(4)
@given(inside=st.integers(0, 512), past=st.integers(513, 4_000), seed=SEED_TEXT)
@example(inside=512, past=513, seed="d")
def test_assistant_description_length(factory, inside, past, seed):
    """An assistant description of up to 512 characters is accepted and a longer one is rejected with 400 naming description."""
    _string_bound(factory, "description", inside, past, seed)


@pytest.mark.check("LIMIT-012")
@pytest.mark.level("MUST")
@examples(3)
@given(inside=st.integers(0, 256_000), past=st.integers(256_001, 300_000), seed=SEED_TEXT)
@example(inside=256_000, past=256_001, seed="i")
def test_assistant_instructions_length(factory, inside, past, seed):
    """Assistant instructions of up to 256,000 characters are accepted and longer ones are rejected with 400 naming instructions."""
    _string_bound(factory, "instructions", inside, past, seed)


@pytest.mark.check("LIMIT-013")
@pytest.mark.level("MUST")
@examples(3)
@given(inside=st.integers(0, 128), past=st.integers(129, 300))
@example(inside=128, past=129)
def test_assistant_tool_count(factory, inside, past):
    """An assistant with up to 128 tools is accepted and one with more is rejected with 400 naming tools."""
    check_bound(_send(factory, "tools"), "tools", function_tools(inside), function_tools(past), items)


@pytest.mark.check("LIMIT-014")
@pytest.mark.level("MUST")
@examples(5)
@given(inside=numbers_within(0, 2), past=numbers_outside(0, 2))
@example(inside=0, past=-0.01)
@example(inside=2, past=2.01)
def test_assistant_temperature_range(factory, inside, past):
    """An assistant temperature between 0 and 2 inclusive is accepted and one outside is rejected with 400 naming temperature."""
    check_bound(_send(factory, "temperature"), "temperature", inside, past, number)


@pytest.mark.check("LIMIT-015")
@pytest.mark.level("MUST")
@examples(5)
@given(inside=numbers_within(0, 1), past=numbers_outside(0, 1))
@example(inside=0, past=-0.01)
@example(inside=1, past=1.01)
def test_assistant_top_p_range(factory, inside, past):
    """An assistant top_p between 0 and 1 inclusive is accepted and one outside is rejected with 400 naming top_p."""
    check_bound(_send(factory, "top_p"), "top_p", inside, past, number)
