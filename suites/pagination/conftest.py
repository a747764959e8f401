"""Lists to page through, built once per module: a few objects of each kind, made across a second
boundary so that created_at differs between the first and the last (ties within a second are normal
and allowed), then walked with a small limit in every direction and order.

* assistants: global to the API key. On a shared or production server other objects exist and may
  appear at any time, so only the subsequence of the objects made here is judged ("shared" list),
  and walks stop once all of them were seen.
* messages (of a thread made here), runs (of a thread made here), run steps (of a run made here):
  everything in them is ours, so they are judged exactly ("exclusive" lists).

Files and vector stores come later: add a builder to BUILDERS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

import pytest

from assistants_conformance.flows import ListWalk, hold_run, poll_run, shared_factory, walk_list
from assistants_conformance.protocol.transitions import TERMINAL

COUNT = 5  # objects per list
LIMIT = 2  # page size: 5 objects give pages of 2, 2, 1 and a final empty page
MAX_PAGES = 40  # bound on any walk (a shared list may hold other objects before ours)


@dataclass
class Listing:
    """One list endpoint and the objects this module made in it (ids in creation order)."""

    kind: str
    path: str
    object_type: str  # the `object` of each item
    ours: list[str]
    exclusive: bool  # True: every object in the list was made here
    limit: int = LIMIT
    client: object = None
    evidence: list = field(default_factory=list)  # exchanges of the setup
    _walks: dict = field(default_factory=dict)

    def _enough(self, seen: str | None = None) -> Callable[[list[dict]], bool] | None:
        """Shared lists: stop once all of ours were seen (`seen`: an id already seen elsewhere)."""
        if self.exclusive:
            return None  # walk to the empty page: the end of the list is part of what is judged
        wanted = set(self.ours) - {seen}
        return lambda items: wanted <= {item.get("id") for item in items}

    def forward(self, order: str | None) -> ListWalk:
        """Walk with `after` from the start of the list (desc: order=None, the default)."""
        key = ("after", order)
        if key not in self._walks:
            cursor, enough = None, None
            if not self.exclusive:
                wanted = set(self.ours)
                if order == "asc":
                    # Ours are the newest: start just before the oldest of them, as the default walk saw
                    # it, instead of crossing every older object of the key; only newer ones follow.
                    cursor = self.anchor()
                else:
                    # Stop once all of ours were seen and one object past them (the anchor) was read.
                    def enough(items: list[dict]) -> bool:
                        return wanted <= {i.get("id") for i in items} and items[-1].get("id") not in wanted
            self._walks[key] = walk_list(self.client, self.path, limit=self.limit, order=order, direction="after",
                                         cursor=cursor, enough=enough, max_pages=MAX_PAGES,
                                         shared_with_others=self._others())
        return _undisturbed(self._walks[key])

    def _others(self) -> frozenset[str] | None:
        """Shared lists: our ids (other clients' objects may vanish under the walk); else None."""
        return None if self.exclusive else frozenset(self.ours)

    def anchor(self) -> str | None:
        """Shared list: the object right after our oldest in the default walk (None: we are the oldest)."""
        ids = self.forward(None).ids()
        positions = [ids.index(i) for i in self.ours if i in ids]
        if positions and max(positions) + 1 < len(ids):
            return ids[max(positions) + 1]
        return None

    def backward(self, order: str | None) -> tuple[ListWalk, dict | None]:
        """Walk with `before` from the last object the forward walk in this order read. Returns the walk
        and that starting object (it belongs at the end of what the backward walk yields)."""
        key = ("before", order)
        if key not in self._walks:
            items = self.forward(order).items()
            start = items[-1] if items else None
            walk = walk_list(self.client, self.path, limit=self.limit, order=order, direction="before",
                             cursor=start.get("id") if start else None, enough=self._enough(start.get("id") if start else None),
                             max_pages=MAX_PAGES, shared_with_others=self._others()) if start else None
            self._walks[key] = (walk, start)
        walk, start = self._walks[key]
        return (_undisturbed(walk) if walk is not None else None), start


def _undisturbed(walk: ListWalk) -> ListWalk:
    """A walk whose cursor object was deleted by another client mid-walk, even after starting again, says
    nothing about the target's paging: the check is reported inconclusive (skipped), never passed."""
    if walk.stopped == "cursor vanished":
        pytest.skip(f"inconclusive: another client deleted a cursor object of the {walk.direction} walk of "
                    f"{walk.path} {walk.restarts} times in a row")
    return walk


def cross_second(factory) -> None:
    """Sleep past the next whole second, so objects made after have a later created_at."""
    time.sleep(1.02 - (time.time() % 1.0))


def build_assistants(factory, profile) -> Listing:
    ours = []
    for i in range(COUNT):
        if i == COUNT // 2:
            cross_second(factory)
        ours.append(factory.assistant(name=f"pagination {i}")["id"])
    return Listing("assistants", "/assistants", "assistant", ours, exclusive=False)


def build_messages(factory, profile) -> Listing:
    thread = factory.thread()
    ours = []
    for i in range(COUNT):
        if i == COUNT // 2:
            cross_second(factory)
        ours.append(factory.message(thread["id"], f"Message {i} of a pagination check.")["id"])
    return Listing("messages", f"/threads/{thread['id']}/messages", "thread.message", ours, exclusive=True)


def build_runs(factory, profile) -> Listing:
    assistant = factory.assistant()
    thread = factory.thread(messages=[{"role": "user", "content": "Reply with one short sentence."}])
    ours = []
    for i in range(COUNT):
        if i == COUNT // 2:
            cross_second(factory)
        run = factory.run(thread["id"], assistant["id"])
        poll_run(factory.client, thread["id"], run["id"], until=TERMINAL, timeout=profile.run_poll_timeout,
                 interval=profile.run_poll_interval, factory=factory)
        ours.append(run["id"])
    return Listing("runs", f"/threads/{thread['id']}/runs", "thread.run", ours, exclusive=True)


def build_run_steps(factory, profile) -> Listing:
    """A run that calls a function and then answers has two steps (tool_calls, message_creation):
    walked with limit 1. Without function tools a plain run has one step."""
    if profile.has("function_tools"):
        held = hold_run(factory, timeout=profile.run_poll_timeout)
        thread_id, run_id = held.thread_id, held.run["id"]
        calls = ((held.run.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
        cross_second(factory)  # the answer's step gets a later created_at than the tool_calls step
        outputs = [{"tool_call_id": c.get("id"), "output": json.dumps({"value": "42"})} for c in calls]
        factory.client.post(f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", json={"tool_outputs": outputs})
    else:
        assistant = factory.assistant()
        thread_id = factory.thread(messages=[{"role": "user", "content": "Reply with one word."}])["id"]
        run_id = factory.run(thread_id, assistant["id"])["id"]
    poll_run(factory.client, thread_id, run_id, until=TERMINAL, timeout=profile.run_poll_timeout,
             interval=profile.run_poll_interval, factory=factory)
    steps = factory.client.get(f"/threads/{thread_id}/runs/{run_id}/steps", params={"order": "asc", "limit": 100})
    data = steps.json.get("data") if isinstance(steps.json, dict) else None
    ours = [s.get("id") for s in data or [] if isinstance(s, dict)]
    return Listing("run_steps", f"/threads/{thread_id}/runs/{run_id}/steps", "thread.run.step", ours,
                   exclusive=True, limit=1)


BUILDERS = {
    "assistants": build_assistants,
    "messages": build_messages,
    "runs": build_runs,
    "run_steps": build_run_steps,
}


@pytest.fixture(scope="module", params=list(BUILDERS))
def listing(request, target) -> Listing:
    recorder: list = []
    with shared_factory(target, recorder=recorder) as factory:
        made = BUILDERS[request.param](factory, target.profile)
        made.client, made.evidence = factory.client, recorder
        yield made
