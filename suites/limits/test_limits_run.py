"""Run body limits: at most 20 tools (not 128 as on assistants), temperature in [0, 2], top_p in [0, 1],
max_prompt_tokens and max_completion_tokens at least 256 (API reference, "Create run").

Each example uses a fresh thread: the value past the bound first (400 whose error.param names the field,
or a path inside it), then the value inside it (200; the run is cancelled at teardown if still live).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ._bounds import check_bound, examples, function_tools, items, number, numbers_outside, numbers_within

RUN_EXAMPLES = 3  # every accepted example starts a real run on the target: keep them few


def _check_run_bound(factory, scratch, field, inside, past, describe):
    thread_id = scratch.fresh_thread_id()

    def send(value):
        return factory.post_run(thread_id, {"assistant_id": scratch.assistant_id, "metadata": factory.tag(),
                                            field: value})

    check_bound(send, field, inside, past, describe)


@pytest.mark.check("LIMIT-020")
@pytest.mark.level("MUST")
@examples(RUN_EXAMPLES)
@given(inside=st.integers(0, 20), past=st.integers(21, 128))
@example(inside=20, past=21)
def test_run_tool_count(factory, scratch, inside, past):
    """A run with up to 20 tools is accepted and one with more is rejected with 400 naming tools.

    Runs allow 20 tools where assistants allow 128: a value between the two must still be rejected.
    """
    _check_run_bound(factory, scratch, "tools", function_tools(inside), function_tools(past), items)


@pytest.mark.check("LIMIT-021")
@pytest.mark.level("MUST")
@examples(RUN_EXAMPLES)
@given(inside=numbers_within(0, 2), past=numbers_outside(0, 2))
@example(inside=2, past=2.01)
def test_run_temperature_range(factory, scratch, inside, past):
    """A run temperature between 0 and 2 inclusive is accepted and one outside is rejected with 400 naming temperature."""
    _check_run_bound(factory, scratch, "temperature", inside, past, number)


@pytest.mark.check("LIMIT-022")
@pytest.mark.level("MUST")
@examples(RUN_EXAMPLES)
@given(inside=numbers_within(0, 1), past=numbers_outside(0, 1))
@example(inside=1, past=1.01)
def test_run_top_p_range(factory, scratch, inside, past):
    """A run top_p between 0 and 1 inclusive is accepted and one outside is rejected with 400 naming top_p."""
    _check_run_bound(factory, scratch, "top_p", inside, past, number)


TOKEN_MINIMUM = 256


@pytest.mark.check("LIMIT-023")
@pytest.mark.level("MUST")
@examples(RUN_EXAMPLES)
@given(inside=st.integers(TOKEN_MINIMUM, 100_000), past=st.integers(-1_000, TOKEN_MINIMUM - 1))
@example(inside=TOKEN_MINIMUM, past=TOKEN_MINIMUM - 1)
def test_run_max_prompt_tokens_minimum(factory, scratch, inside, past):
    """A run max_prompt_tokens of 256 or more is accepted and a smaller one is rejected with 400 naming max_prompt_tokens."""
    _check_run_bound(factory, scratch, "max_prompt_tokens", inside, past, str)


@pytest.mark.check("LIMIT-024")
@pytest.mark.level("MUST")
@examples(RUN_EXAMPLES)
@given(inside=st.integers(TOKEN_MINIMUM, 100_000), past=st.integers(-1_000, TOKEN_MINIMUM - 1))
@example(inside=TOKEN_MINIMUM, past=TOKEN_MINIMUM - 1)
def test_run_max_completion_tokens_minimum(factory, scratch, inside, past):
    """A run max_completion_tokens of 256 or more is accepted and a smaller one is rejected with 400 naming max_completion_tokens."""
    _check_run_bound(factory, scratch, "max_completion_tokens", inside, past, str)
