"""SSE framing of a run's events: the frames of one run until it ends or pauses, then `done`."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from starlette.responses import Response, StreamingResponse

from .engine import STREAM_END, Engine


def stream(engine: Engine, run_id: str, queue: asyncio.Queue) -> Response:
    """The streaming answer for the events ``queue`` receives (already subscribed to ``run_id``)."""
    faults = engine.faults
    media = "application/json" if "stream-json-content-type" in faults else "text/event-stream; charset=utf-8"
    return StreamingResponse(events(engine, run_id, queue), media_type=media,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def events(engine: Engine, run_id: str, queue: asyncio.Queue) -> AsyncIterator[str]:
    """SSE frames for one run until it ends or pauses, then `done`. Bounded by the run's expiry."""
    faults = engine.faults
    bound = engine.settings.run_expiry_seconds + 30
    held: str | None = None        # fault stream-reorder: the queued event waits for in_progress
    deltas = 0
    try:
        ended = False
        while not ended:
            try:
                items = [await asyncio.wait_for(queue.get(), bound)]
            except asyncio.TimeoutError:
                yield _frame("error", json.dumps({"type": "server_error", "code": "server_error", "param": None,
                                                  "message": "The run made no progress in time."}))
                break
            while not queue.empty():   # send whatever is ready in one write
                items.append(queue.get_nowait())
            chunk = []
            for name, payload in items:
                if "stream-reorder" in faults:
                    if name == "thread.run.queued" and held is None:
                        held = payload
                        continue
                    if held is not None:
                        if name == "thread.run.in_progress":
                            chunk.append(_frame(name, payload))
                        chunk.append(_frame("thread.run.queued", held))
                        held = None
                        if name == "thread.run.in_progress":
                            continue
                if name == "thread.message.delta":
                    deltas += 1
                    if deltas == 2 and "stream-drop-delta" in faults:
                        continue
                chunk.append(_frame(name, payload))
                if name in STREAM_END:
                    ended = True
                    break
            if chunk:
                yield "".join(chunk)
        if "stream-no-done" not in faults:
            yield "event: done\ndata: [DONE]\n\n"
    finally:
        engine.unsubscribe(run_id, queue)


def _frame(name: str, payload: str) -> str:
    return f"event: {name}\ndata: {payload}\n\n"
