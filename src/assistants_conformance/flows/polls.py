"""Bounded polling: GET an object until its status is one of those wanted, with backoff, within a bound."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..checks import violation
from ..protocol.transitions import TERMINAL
from .factory import Factory

SLOW_WAIT_SECONDS = 60.0  # a check that must wait longer than this (expiry windows, store days) runs only with --run-slow


@dataclass
class Poll:
    final: dict
    statuses: list[str]
    reads: int
    elapsed: float
    exchange: Any = None  # the last read's exchange (evidence)


def poll_run(
    client,
    thread_id: str,
    run_id: str,
    *,
    until: Iterable[str] = TERMINAL | {"requires_action"},
    timeout: float,
    interval: float = 0.05,
    max_interval: float = 0.5,
    factory: Factory | None = None,
    on_read: Callable[[dict], None] | None = None,
) -> Poll:
    """GET the run until its status is in `until`, with backoff, for at most `timeout` seconds.
    Fails the check with the statuses seen when the bound is reached."""
    def read(run: dict) -> None:
        if factory is not None:
            factory.note_run(run)
        if on_read is not None:
            on_read(run)

    return poll_object(client, f"/threads/{thread_id}/runs/{run_id}", f"run {run_id}", until=until,
                       timeout=timeout, interval=interval, max_interval=max_interval, on_read=read)


# Vector store (and vector store file / batch) statuses that end indexing.
INDEXING_DONE = frozenset({"completed", "failed", "cancelled", "expired"})


def poll_vector_store(client, vector_store_id: str, *, timeout: float, until: Iterable[str] = INDEXING_DONE,
                      path_suffix: str = "", on_read: Callable[[dict], None] | None = None) -> Poll:
    """GET /vector_stores/{id}{path_suffix} (e.g. "/files/{file_id}", "/file_batches/{batch_id}") until its
    status is in `until` (default: indexing ended), within `timeout` seconds (the profile's run_poll_timeout)."""
    path = f"/vector_stores/{vector_store_id}{path_suffix}"
    return poll_object(client, path, path.lstrip("/"), until=until, timeout=timeout, on_read=on_read)


def poll_object(client, path: str, what: str, *, until: Iterable[str], timeout: float, interval: float = 0.05,
                max_interval: float = 0.5, on_read: Callable[[dict], None] | None = None) -> Poll:
    """GET `path` until the object's status is in `until`, with backoff, for at most `timeout` seconds.
    Fails the check (naming `what`) on an answer that is not 200 with an object, or with the statuses
    seen when the bound is reached."""
    wanted = set(until)
    statuses: list[str] = []
    started = time.monotonic()
    delay = interval
    while True:
        response = client.get(path)
        obj = response.json
        if response.status_code != 200 or not isinstance(obj, dict):
            violation(f"reading {what} answered {response.status_code}", [response.exchange])
        statuses.append(obj.get("status"))
        if on_read is not None:
            on_read(obj)
        elapsed = time.monotonic() - started
        if obj.get("status") in wanted:
            return Poll(obj, statuses, len(statuses), elapsed, response.exchange)
        if elapsed >= timeout:
            violation(
                f"{what} did not reach {sorted(wanted)} within {timeout:g} s; statuses seen: {squash_statuses(statuses)}",
                [response.exchange],
            )
        time.sleep(min(delay, max(0.0, timeout - elapsed)))
        delay = min(delay * 1.5, max_interval)


def squash_statuses(statuses: list[str]) -> str:
    """['queued', 'queued', 'in_progress'] -> 'queued x2 -> in_progress'."""
    out: list[str] = []
    for status in statuses:
        if out and out[-1].split(" x")[0] == status:
            head, _, count = out[-1].partition(" x")
            out[-1] = f"{head} x{int(count or 1) + 1}"
        else:
            out.append(str(status))
    return " -> ".join(out)
