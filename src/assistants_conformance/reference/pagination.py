"""Cursor pagination shared by every list endpoint (limit, order, after, before, has_more, first/last id)."""

from __future__ import annotations

import re
from typing import Callable, Mapping

from .errors import bad_request

INTEGER = re.compile(r"-?[0-9]{1,10}")


def parse_list_query(query: Mapping[str, str], faults: frozenset[str], max_limit: int = 100,
                     default_limit: int = 20) -> tuple[int, str, str | None, str | None]:
    raw = query.get("limit", str(default_limit))
    if not INTEGER.fullmatch(raw):   # int() would also take " 5", "1_0" and non-ASCII digits
        raise bad_request(f"Invalid 'limit': expected an integer, got '{raw}'.", "limit", "invalid_type")
    limit = int(raw)
    lowest = 0 if "limit-unbounded" in faults else 1
    if limit < lowest or (limit > max_limit and "limit-unbounded" not in faults):
        raise bad_request(f"Invalid 'limit': must be between 1 and {max_limit}, got {limit}.", "limit", "invalid_value")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        if "order-unchecked" not in faults:
            raise bad_request(f"Invalid 'order': expected 'asc' or 'desc', got '{order}'.", "order", "invalid_value")
        order = "desc"
    if "ignore-order" in faults:
        order = "asc"
    before = None if "ignore-before" in faults else query.get("before")
    return limit, order, query.get("after"), before


def page(ids: list[str], render: Callable[[str], dict], query: Mapping[str, str], faults: frozenset[str],
         max_limit: int = 100, default_limit: int = 20) -> dict:
    """One page of ``ids`` (given in ascending created order). Unknown cursor ids are a 400 naming the cursor.
    /files pages allow 1..10,000 (default 10,000); every other list 1..100 (default 20)."""
    limit, order, after, before = parse_list_query(query, faults, max_limit, default_limit)
    ordered = ids if order == "asc" else ids[::-1]
    position = {object_id: i for i, object_id in enumerate(ordered)} if (after or before) else {}
    start, stop = 0, len(ordered)
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and cursor not in position:
            raise bad_request(f"Invalid '{name}': no object with id '{cursor}' in this list.", name, "invalid_value")
    if after is not None:
        start = position[after] + 1
    if before is not None:
        stop = min(stop, position[before])
    if before is not None and after is None:
        # Walking backwards: the `limit` items right before the cursor, still in list order.
        first = max(start, stop - limit)
        chosen, has_more = ordered[first:stop], first > start
    else:
        chosen, has_more = ordered[start:min(stop, start + limit)], start + limit < stop
    if "has-more-wrong" in faults:
        has_more = False
    data = [render(object_id) for object_id in chosen]
    return {"object": "list", "data": data, "first_id": chosen[0] if chosen else None,
            "last_id": chosen[-1] if chosen else None, "has_more": has_more}
