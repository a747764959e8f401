"""Authentication: a request without an API key, or with a key the target does not know, is answered 401
in the error envelope, on reads and writes alike, and creates nothing.
"""

from __future__ import annotations

import secrets

import pytest

from assistants_conformance.flows import Factory, expect_error


@pytest.fixture
def outsider(target, factory):
    """Returns a Factory for a client with the given credentials: anything it manages to create (on a target
    that lets it in by mistake) is deleted with those same credentials at teardown."""
    made: list[Factory] = []

    def make(client) -> Factory:
        made.append(Factory(client=client, session_id=target.session_id, model=target.profile.model))
        return made[-1]

    yield make
    for f in made:
        f.cleanup()  # problems ignored: on a target that checks keys there is nothing to delete


def _assert_all_unauthorized(factory, stranger: Factory, who: str) -> None:
    """Reads and writes sent by `stranger`, on collections and on the key owner's objects, are all 401."""
    thread = factory.thread()
    assistant = factory.assistant()
    client = stranger.client
    attempts = [
        ("GET /assistants", lambda: client.get("/assistants")),
        ("POST /assistants", lambda: stranger.post_assistant({"model": factory.model, "metadata": factory.tag()})),
        ("POST /threads", lambda: stranger.post_thread({"metadata": factory.tag()})),
        (f"GET /threads/{thread['id']}", lambda: client.get(f"/threads/{thread['id']}")),
        (f"GET /assistants/{assistant['id']}", lambda: client.get(f"/assistants/{assistant['id']}")),
        (f"POST /threads/{thread['id']}/messages",
         lambda: client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "Hello."})),
    ]
    for what, send in attempts:
        expect_error(send(), 401, sent=f"{what} {who}")


@pytest.mark.check("AUTH-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("auth")
def test_missing_key_is_unauthorized(factory, anonymous_client, outsider):
    """A request without an API key is answered 401 in the error envelope."""
    _assert_all_unauthorized(factory, outsider(anonymous_client), "without an API key")


@pytest.mark.check("AUTH-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("auth")
def test_wrong_key_is_unauthorized(factory, client, outsider):
    """A request with an API key the target does not know is answered 401 in the error envelope."""
    wrong = client.with_api_key(f"sk-wrong-{secrets.token_hex(16)}")
    _assert_all_unauthorized(factory, outsider(wrong), "with an unknown API key")
