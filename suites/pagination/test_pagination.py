"""Cursor pagination of every list (limit, order, after, before, has_more, first_id, last_id).

API reference, list operations: `limit` objects per page (1 to 100, default 20), `order` by created_at
(asc or desc, default desc), `after`/`before` take an object id as cursor to fetch the next/previous
page. Each check runs on every list (see conftest.py); shared lists are judged on our objects only.
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation

MAX_LISTED = 6


def fail_with(problems: list[str], evidence: list) -> None:
    if problems:
        more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
        violation("; ".join(problems[:MAX_LISTED]) + more, evidence)


def describe(walk) -> str:
    order = walk.order or "default"
    return f"walk with {walk.direction} (order {order}, limit {walk.limit})"


def short(ids) -> str:
    return "[" + ", ".join(str(i)[-6:] if i else repr(i) for i in ids) + "]"


def walk_problems(listing, walk, *, descending: bool) -> list[str]:
    """What is wrong with one walk's sequence: broken pages, pages over the limit, objects twice,
    ours missing (or, in an exclusive list, others present), created_at out of order."""
    name = f"{listing.kind}: {describe(walk)}"
    problems = []
    for number, page in enumerate(walk.pages, 1):
        if page.body is None:
            problems.append(f"{name}: page {number} answered {page.response.status_code}, not a list page")
        elif len(page.items) > walk.limit:
            problems.append(f"{name}: page {number} holds {len(page.items)} objects, more than limit {walk.limit}")
    if walk.stopped in ("max pages", "cursor repeated"):
        problems.append(f"{name}: the walk did not end ({walk.stopped} after {len(walk.pages)} pages)")
    ids = walk.ids()
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(f"{name}: objects seen more than once: {short(twice)}")
    missing = [i for i in listing.ours if i not in ids]
    if missing:
        problems.append(f"{name}: {len(missing)} of our {len(listing.ours)} objects never appeared: {short(missing)}")
    if listing.exclusive:
        foreign = [i for i in ids if i not in listing.ours]
        if foreign:
            problems.append(f"{name}: objects that were never made in this {listing.kind} list appeared: {short(foreign)}")
    stamps = [(item.get("id"), item.get("created_at")) for item in walk.items()
              if isinstance(item.get("created_at"), (int, float))]
    for (a, ta), (b, tb) in zip(stamps, stamps[1:]):
        if (ta < tb) if descending else (ta > tb):
            want = "newest first (created_at descending)" if descending else "oldest first (created_at ascending)"
            problems.append(f"{name}: {a} (created_at {ta}) comes before {b} (created_at {tb}); expected {want}")
            break
    return problems


def ours_in(listing, ids) -> list:
    mine = set(listing.ours)
    return [i for i in ids if i in mine]


@pytest.mark.check("PAGE-001")
@pytest.mark.level("MUST")
def test_default_order_walk(listing):
    """Paging with `after` in the default order yields every object once, newest first, at most `limit` per page."""
    walk = listing.forward(None)
    fail_with(walk_problems(listing, walk, descending=True), walk.exchanges)


@pytest.mark.check("PAGE-002")
@pytest.mark.level("MUST")
def test_ascending_walk(listing):
    """Paging with `after` and order=asc yields every object once, oldest first: the default order reversed.

    created_at has one-second resolution, so ties are normal; the order among equal created_at must
    still be the same in both directions (ascending is exactly the reverse of descending)."""
    desc, asc = listing.forward(None), listing.forward("asc")
    problems = walk_problems(listing, asc, descending=False)
    mine_desc, mine_asc = ours_in(listing, desc.ids()), ours_in(listing, asc.ids())
    if not problems and mine_asc != mine_desc[::-1]:
        problems.append(f"{listing.kind}: order=asc gives {short(mine_asc)}, the reverse of the default "
                        f"order would be {short(mine_desc[::-1])}")
    fail_with(problems, desc.exchanges + asc.exchanges)


@pytest.mark.check("PAGE-003")
@pytest.mark.level("MUST")
def test_before_walks(listing):
    """Paging back with `before` yields the same objects in the same order as paging with `after`, in both orders.

    `before` returns the page right before the cursor, still in the list's order."""
    problems, evidence = [], []
    for order in (None, "asc"):
        forward = listing.forward(order)
        walk, start = listing.backward(order)
        evidence += forward.exchanges
        if walk is None:
            problems.append(f"{listing.kind}: {describe(forward)} read no object to page back from")
            continue
        evidence += walk.exchanges
        problems += walk_problems_before(listing, walk, start, descending=order is None)
        expected = ours_in(listing, forward.ids())
        got = ours_in(listing, walk.ids() + [start.get("id")])
        if got != expected and not any("twice" in p or "never" in p for p in problems):
            problems.append(f"{listing.kind}: {describe(walk)} from {start.get('id')} gives "
                            f"{short(got)}, paging with after gave {short(expected)}")
    fail_with(problems, evidence)


def walk_problems_before(listing, walk, start, *, descending: bool) -> list[str]:
    """walk_problems for a backward walk: the object it started from counts as seen (at the end)."""
    problems = walk_problems(listing, walk, descending=descending)
    start_id = start.get("id")
    if start_id in listing.ours:
        problems = [p for p in problems if "never appeared" not in p]
        missing = [i for i in listing.ours if i not in walk.ids() and i != start_id]
        if missing:
            problems.append(f"{listing.kind}: {describe(walk)} from {start_id}: {len(missing)} objects before it "
                            f"never appeared: {short(missing)}")
    if start_id in walk.ids():
        problems.append(f"{listing.kind}: {describe(walk)} from {start_id} returned the cursor object itself")
    return problems


def page_flag_problems(listing, walk) -> list[str]:
    """has_more says whether another non-empty page follows (judged where the walk read the next page),
    first_id/last_id name the first and last object of the page (null on an empty page is accepted)."""
    name = f"{listing.kind}: {describe(walk)}"
    problems = []
    pages = [p for p in walk.pages if p.body is not None]
    for number, page in enumerate(pages, 1):
        body, items = page.body, page.items
        if items:
            if body.get("first_id") != items[0].get("id") or body.get("last_id") != items[-1].get("id"):
                problems.append(f"{name}: page {number} says first_id {body.get('first_id')!r}, last_id "
                                f"{body.get('last_id')!r}; its objects run from {items[0].get('id')!r} to "
                                f"{items[-1].get('id')!r}")
        elif body.get("first_id") is not None or body.get("last_id") is not None:
            problems.append(f"{name}: empty page {number} names first_id {body.get('first_id')!r}, "
                            f"last_id {body.get('last_id')!r}")
        if number < len(pages):
            more = len(pages[number].items) > 0
        elif not items:
            more = False  # the empty page at the end: nothing follows
        else:
            continue  # the walk stopped here (enough seen): what follows was not read
        if body.get("has_more") is not more:
            problems.append(f"{name}: page {number} says has_more {body.get('has_more')!r}, but the next page "
                            f"{f'holds {len(pages[number].items)} object(s)' if more else 'is empty'}")
    return problems


@pytest.mark.check("PAGE-004")
@pytest.mark.level("MUST")
def test_page_flags(listing):
    """has_more tells whether more objects follow the page, and first_id/last_id name its first and last objects."""
    problems, evidence = [], []
    walks = [listing.forward(None), listing.forward("asc")]
    walks += [w for w, _ in (listing.backward(None), listing.backward("asc")) if w is not None]
    for walk in walks:
        problems += page_flag_problems(listing, walk)
        evidence += walk.exchanges
    fail_with(problems, evidence)


@pytest.mark.check("PAGE-005")
@pytest.mark.level("MUST")
def test_list_object_types(listing):
    """A list page has object "list", and every object in it has the object type of that list."""
    walk = listing.forward(None)
    problems = []
    for number, page in enumerate(walk.pages, 1):
        if page.body is None:
            continue
        if page.body.get("object") != "list":
            problems.append(f"{listing.kind}: page {number} has object {page.body.get('object')!r}, expected 'list'")
        for item in page.items:
            if item.get("id") in listing.ours and item.get("object") != listing.object_type:
                problems.append(f"{listing.kind}: {item.get('id')} has object {item.get('object')!r}, "
                                f"expected {listing.object_type!r}")
    fail_with(problems, walk.exchanges)
