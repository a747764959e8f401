"""walk_list on a list shared with other clients: a cursor object deleted by its owner mid-walk."""

from __future__ import annotations

from dataclasses import dataclass

from assistants_conformance.flows import walk_list


@dataclass
class Answer:
    status_code: int
    json: object = None
    exchange: object = None


class FakeList:
    """GET /things (a list with `after` cursors) and GET /things/{id}. Its other owner deletes each id in
    `doomed` right after a page ending with it was served, i.e. just before we use it as the cursor."""

    def __init__(self, ids, doomed=()):
        self.ids, self.doomed = list(ids), set(doomed)

    def get(self, path, params=None):
        if path != "/things":
            return Answer(200 if path.rsplit("/", 1)[1] in self.ids else 404)
        after = params.get("after")
        if after is not None and after not in self.ids:
            return Answer(400, {"error": {"message": "no such cursor"}})
        start = self.ids.index(after) + 1 if after else 0
        page = self.ids[start:start + params["limit"]]
        if page and page[-1] in self.doomed:
            self.doomed.discard(page[-1])
            self.ids.remove(page[-1])
        return Answer(200, {"object": "list", "data": [{"id": i} for i in page]})


def test_a_foreign_cursor_deleted_mid_walk_starts_the_walk_again():
    things = FakeList(["a", "theirs", "b", "c"], doomed={"theirs"})
    walk = walk_list(things, "/things", limit=2, shared_with_others=frozenset({"a", "b", "c"}))
    assert (walk.stopped, walk.restarts, walk.ids()) == ("empty page", 1, ["a", "b", "c"])


def test_deletions_that_keep_coming_end_as_cursor_vanished():
    things = FakeList(["a", "x1", "x2", "x3", "b"], doomed={"x1", "x2", "x3"})
    walk = walk_list(things, "/things", limit=2, shared_with_others=frozenset({"a", "b"}), restarts=2)
    assert (walk.stopped, walk.restarts) == ("cursor vanished", 2)


def test_on_a_list_that_is_all_ours_a_vanished_cursor_stays_an_error():
    things = FakeList(["a", "b", "c", "d"], doomed={"b"})
    walk = walk_list(things, "/things", limit=2)
    assert (walk.stopped, walk.restarts) == ("error", 0)
