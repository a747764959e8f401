"""List pagination walks: follow the after/before cursor from each page's own data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class ListPage:
    params: dict
    response: Any  # client.Response
    body: dict | None  # the envelope, when the answer was 200 with a JSON object holding a data list
    items: list[dict]


@dataclass
class ListWalk:
    """The pages one cursor walk read, in request order, and why it stopped."""

    path: str
    direction: str  # "after" (forward) or "before" (backward)
    limit: int
    order: str | None  # None: the server's default order
    pages: list[ListPage]
    stopped: str  # "empty page" | "enough" | "max pages" | "cursor repeated" | "error" | "cursor vanished"
    restarts: int = 0  # walks begun again because someone else deleted a cursor object mid-walk

    def items(self) -> list[dict]:
        """Objects in list order: a forward walk appends its pages, a backward walk prepends them."""
        pages = self.pages if self.direction == "after" else list(reversed(self.pages))
        return [item for page in pages for item in page.items]

    def ids(self) -> list:
        return [item.get("id") for item in self.items()]

    @property
    def exchanges(self) -> list:
        return [page.response.exchange for page in self.pages]


def walk_list(client, path: str, *, limit: int, order: str | None = None, direction: str = "after",
              cursor: str | None = None, enough: Callable[[list[dict]], bool] | None = None,
              max_pages: int = 50, shared_with_others: frozenset[str] | None = None,
              restarts: int = 3) -> ListWalk:
    """Page through a list with the `after` (forward) or `before` (backward) cursor, taking the next
    cursor from the page's own data (so wrong first_id/last_id/has_more do not steer the walk; the
    checks judge those separately). Stops at an empty page, when `enough(items so far)` holds, at
    `max_pages`, when a cursor comes round again, or at an answer that is not a list page.

    `shared_with_others`: the list also holds objects of other clients (e.g. the key's assistants on a
    shared server); the set holds the ids that are ours. A cursor that is not ours may be deleted by its
    owner mid-walk: if a page then fails and that object reads 404, the walk begins again (at most
    `restarts` times) and, if it keeps happening, stops as "cursor vanished" for the check to report as
    inconclusive. On a list that is all ours a vanished cursor stays an error."""
    start = cursor
    for attempt in range(restarts + 1):
        walk = _walk_once(client, path, limit, order, direction, start, enough, max_pages)
        walk.restarts = attempt
        failed_cursor = walk.pages[-1].params.get(direction) if walk.stopped == "error" and walk.pages else None
        if (shared_with_others is None or failed_cursor is None or failed_cursor in shared_with_others
                or client.get(f"{path}/{failed_cursor}").status_code != 404):
            return walk
        walk.stopped = "cursor vanished"
        if failed_cursor == start:
            return walk  # the starting point itself is gone: beginning again cannot help
    return walk


def _walk_once(client, path, limit, order, direction, cursor, enough, max_pages) -> ListWalk:
    walk = ListWalk(path, direction, limit, order, [], "max pages")
    used: set[str] = set()
    while len(walk.pages) < max_pages:
        params: dict[str, Any] = {"limit": limit}
        if order is not None:
            params["order"] = order
        if cursor is not None:
            params[direction] = cursor
        response = client.get(path, params=params)
        body = response.json if response.status_code == 200 and isinstance(response.json, dict) else None
        data = body.get("data") if body is not None else None
        if not isinstance(data, list):
            walk.pages.append(ListPage(params, response, None, []))
            walk.stopped = "error"
            return walk
        items = [item for item in data if isinstance(item, dict)]
        walk.pages.append(ListPage(params, response, body, items))
        if not items:
            walk.stopped = "empty page"
            return walk
        if enough is not None and enough(walk.items()):
            walk.stopped = "enough"
            return walk
        cursor = (items[-1] if direction == "after" else items[0]).get("id")
        if not isinstance(cursor, str) or cursor in used:
            walk.stopped = "cursor repeated"
            return walk
        used.add(cursor)
    return walk
