"""Metadata limits: at most 16 pairs, keys of at most 64 characters, values of at most 512 characters.

Every request here carries the factory's tag pair (conformance_run: <session>), which counts towards the
16 pairs: the drawn pairs are one fewer than the total sent. error.param may name the field itself or a
path inside it ("metadata" or "metadata.some_key").
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistants_conformance.flows import expect_error

from ._bounds import SEED_TEXT, check_bound, examples, text_of

MAX_PAIRS = 16
MAX_KEY = 64
MAX_VALUE = 512


def _pairs(total: int, factory) -> dict:
    """`total` pairs including the factory's tag."""
    return factory.tag({f"k{i:02d}": "v" for i in range(total - 1)})


def _send_assistant(factory):
    return lambda metadata: factory.post_assistant({"model": factory.model, "metadata": metadata})


def _describe(metadata: dict) -> str:
    longest_key = max(map(len, metadata))
    longest_value = max(map(len, metadata.values()))
    return f"{len(metadata)} pairs (longest key {longest_key}, longest value {longest_value} characters)"


@pytest.mark.check("LIMIT-001")
@pytest.mark.level("MUST")
@examples(5)
@given(inside=st.integers(1, MAX_PAIRS), past=st.integers(MAX_PAIRS + 1, 3 * MAX_PAIRS))
@example(inside=MAX_PAIRS, past=MAX_PAIRS + 1)
def test_metadata_pair_count(factory, inside, past):
    """Metadata with up to 16 key-value pairs is accepted and 17 or more is rejected with 400 naming metadata.

    API reference, "metadata": "Set of 16 key-value pairs"; checked on assistant creation.
    """
    check_bound(_send_assistant(factory), "metadata", _pairs(inside, factory), _pairs(past, factory), _describe)


@pytest.mark.check("LIMIT-002")
@pytest.mark.level("MUST")
@examples(5)
@given(inside=st.integers(1, MAX_KEY), past=st.integers(MAX_KEY + 1, 4 * MAX_KEY), seed=SEED_TEXT)
@example(inside=MAX_KEY, past=MAX_KEY + 1, seed="k")
def test_metadata_key_length(factory, inside, past, seed):
    """Metadata keys of up to 64 characters are accepted and longer keys are rejected with 400 naming metadata.

    API reference, "metadata": "Keys are strings with a maximum length of 64 characters".
    """
    def metadata(length: int) -> dict:
        return factory.tag({text_of(length, "K" + seed): "v"})

    check_bound(_send_assistant(factory), "metadata", metadata(inside), metadata(past), _describe)


@pytest.mark.check("LIMIT-003")
@pytest.mark.level("MUST")
@examples(5)
@given(inside=st.integers(0, MAX_VALUE), past=st.integers(MAX_VALUE + 1, 4 * MAX_VALUE), seed=SEED_TEXT)
@example(inside=MAX_VALUE, past=MAX_VALUE + 1, seed="v")
def test_metadata_value_length(factory, inside, past, seed):
    """Metadata values of up to 512 characters are accepted and longer values are rejected with 400 naming metadata.

    API reference, "metadata": "values are strings with a maximum length of 512 characters".
    """
    def metadata(length: int) -> dict:
        return factory.tag({"conformance_value": text_of(length, seed)})

    check_bound(_send_assistant(factory), "metadata", metadata(inside), metadata(past), _describe)


def _broken(which: str, factory) -> dict:
    if which == "pairs":
        return _pairs(MAX_PAIRS + 1, factory)
    if which == "key":
        return factory.tag({"k" * (MAX_KEY + 1): "v"})
    return factory.tag({"conformance_value": "v" * (MAX_VALUE + 1)})


@pytest.mark.check("LIMIT-004")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("which", ["pairs", "key", "value"])
@pytest.mark.parametrize("kind", ["thread", "message", "run"])
def test_metadata_limits_on_every_object(factory, scratch, kind, which):
    """Threads, messages and runs reject metadata past the limits (17 pairs, 65-character key, 513-character value) with 400 naming metadata.

    The same Metadata type (16 pairs, keys <= 64, values <= 512) applies to every object that carries it.
    """
    metadata = _broken(which, factory)
    sent = f"{kind} metadata with {_describe(metadata)}"
    if kind == "thread":
        response = factory.post_thread({"metadata": metadata})
    else:
        thread_id = scratch.thread_id
        if kind == "message":
            response = factory.client.post(f"/threads/{thread_id}/messages",
                                           json={"role": "user", "content": "Hello.", "metadata": metadata})
        else:
            response = factory.post_run(thread_id, {"assistant_id": scratch.assistant_id, "metadata": metadata})
    expect_error(response, 400, param="metadata", sent=sent)

