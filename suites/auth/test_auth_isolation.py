"""Isolation between API keys: objects made with one key do not exist for another key (404 on read and
write, absent from its lists), and the other key cannot change them.
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import require
from assistants_conformance.flows import expect_error, run_for_ids


@pytest.fixture
def owned(factory, profile):
    """The first key's assistant, thread, message and a run (paused in requires_action when the target
    has function tools)."""
    held = run_for_ids(factory, profile)
    messages = factory.client.get(f"/threads/{held.thread_id}/messages")
    require(messages.status_code == 200, f"listing the messages of the first key's thread answered "
            f"{messages.status_code}", [messages.exchange])
    require(messages.json.get("data"), "the first key's thread, created with a user message, lists no messages",
            [messages.exchange])
    return held, messages.json["data"][0]["id"]


@pytest.mark.check("AUTH-010")
@pytest.mark.level("MUST")
@pytest.mark.capability("isolation")
def test_other_keys_objects_are_not_found(owned, second_client):
    """An assistant, thread, message or run made with one API key is answered 404 when read with another key."""
    held, message_id = owned
    for path in (
        f"/assistants/{held.assistant['id']}",
        f"/threads/{held.thread_id}",
        f"/threads/{held.thread_id}/messages/{message_id}",
        f"/threads/{held.thread_id}/runs/{held.run['id']}",
        f"/threads/{held.thread_id}/messages",
        f"/threads/{held.thread_id}/runs",
    ):
        expect_error(second_client.get(path), 404, sent=f"GET {path} with another API key")


@pytest.mark.check("AUTH-011")
@pytest.mark.level("MUST")
@pytest.mark.capability("isolation")
def test_other_keys_assistants_are_not_listed(factory, second_client):
    """An assistant made with one API key never appears in another key's assistant list."""
    mine = factory.assistant()
    # Newest first: a just-made assistant would be on the first page if the list leaked it.
    listing = second_client.get("/assistants", params={"limit": 100, "order": "desc"})
    require(listing.status_code == 200, f"listing assistants with the second key answered {listing.status_code}",
            [listing.exchange])
    ids = [item.get("id") for item in listing.json.get("data", []) if isinstance(item, dict)]
    require(mine["id"] not in ids, f"assistant {mine['id']} made with the first key is listed for the second key",
            [listing.exchange])


@pytest.mark.check("AUTH-012")
@pytest.mark.level("MUST")
@pytest.mark.capability("isolation")
def test_other_key_cannot_change_objects(owned, client, second_client):
    """Another API key cannot modify, delete, cancel or add to a key's objects: each attempt is 404 and nothing changes."""
    held, _ = owned
    thread, run, assistant = held.thread_id, held.run["id"], held.assistant["id"]
    for method, path, body in (
        ("POST", f"/assistants/{assistant}", {"description": "changed by another key"}),
        ("POST", f"/threads/{thread}", {"metadata": {"changed": "yes"}}),
        ("POST", f"/threads/{thread}/messages", {"role": "user", "content": "Injected by another key."}),
        ("POST", f"/threads/{thread}/runs/{run}/cancel", None),
        ("DELETE", f"/threads/{thread}", None),
        ("DELETE", f"/assistants/{assistant}", None),
    ):
        expect_error(second_client.request(method, path, json=body), 404, sent=f"{method} {path} with another API key")
    after = client.get(f"/threads/{thread}/runs/{run}")
    require(after.status_code == 200 and after.json.get("status") == held.run.get("status"),
            f"the run should still be {held.run.get('status')} for its own key after the other key's attempts",
            [after.exchange])
