"""List parameters: `limit` between 1 and 100 (0 and 101 rejected), `order` only "asc" or "desc"
(API reference, every "List ..." operation). Checked on the assistants list and a thread's messages list.

Rejections must be 400 with error.param naming the parameter ("limit", "order").
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistants_conformance.checks import require
from assistants_conformance.flows import expect_error

from ._bounds import examples

LISTS = ["assistants", "messages"]


def _list_path(which: str, scratch) -> str:
    return "/assistants" if which == "assistants" else f"/threads/{scratch.thread_id}/messages"


@pytest.mark.check("LIMIT-030")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("which", LISTS)
@examples(4)
@given(inside=st.integers(1, 100), past=st.one_of(st.integers(-1_000, 0), st.integers(101, 100_000)))
@example(inside=1, past=0)
@example(inside=100, past=101)
def test_list_limit_range(client, scratch, which, inside, past):
    """A list limit between 1 and 100 is accepted (at most that many items) and 0 or above 100 is rejected with 400 naming limit."""
    path = _list_path(which, scratch)
    expect_error(client.get(path, params={"limit": past}), 400, param="limit", sent=f"limit = {past}")
    response = client.get(path, params={"limit": inside})
    require(response.status_code == 200, f"limit = {inside} is within 1..100 but was answered {response.status_code}",
            [response.exchange])
    data = response.json.get("data") if isinstance(response.json, dict) else None
    require(isinstance(data, list) and len(data) <= inside,
            f"limit = {inside} answered {len(data) if isinstance(data, list) else 'no'} items in data",
            [response.exchange])


# Anything but the two documented values; printable so it reaches the server as typed.
BAD_ORDER = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12).filter(
    lambda s: s not in ("asc", "desc"))


@pytest.mark.check("LIMIT-031")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("which", LISTS)
@examples(4)
@given(inside=st.sampled_from(["asc", "desc"]), past=BAD_ORDER)
@example(inside="asc", past="ascending")
@example(inside="desc", past="random")
def test_list_order_values(client, scratch, which, inside, past):
    """A list order of "asc" or "desc" is accepted and any other value is rejected with 400 naming order."""
    path = _list_path(which, scratch)
    expect_error(client.get(path, params={"order": past}), 400, param="order", sent=f"order = {past!r}")
    response = client.get(path, params={"order": inside})
    require(response.status_code == 200, f"order = {inside!r} was answered {response.status_code}",
            [response.exchange])
