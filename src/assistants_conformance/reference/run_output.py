"""What a run writes as it goes (events to its streams, steps, the pause between tokens) and the prompt it reads.

``Engine`` (engine.py) drives runs on top of this; the hosted tool turns (tool_turns.py) write their steps
through it, so they need nothing of the engine above it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from . import model, objects
from .ids import Clock, IdFactory
from .store import Record, Store


@dataclass(frozen=True)
class Settings:
    run_expiry_seconds: float = 600.0
    token_delay_seconds: float = 0.0
    faults: frozenset[str] = frozenset()
    max_file_bytes: int = 512 * 1024 * 1024      # uploads past it: 400
    index_delay_seconds: float = 0.05            # per vector store file, so polling sees in_progress
    vector_store_day_seconds: float = 86_400.0   # length of an expires_after "day" (tests shorten it)


class RunOutput:
    def __init__(self, store: Store, settings: Settings, ids: IdFactory, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.faults = settings.faults
        self.ids = ids
        self.clock = clock
        self.listeners: dict[str, list[asyncio.Queue]] = {}  # run id -> stream queues

    # ---- events -----------------------------------------------------------------------------------------
    def subscribe(self, run_id: str, queue: asyncio.Queue | None = None) -> asyncio.Queue:
        queue = queue or asyncio.Queue()
        self.listeners.setdefault(run_id, []).append(queue)
        return queue

    def unsubscribe(self, run_id: str, queue: asyncio.Queue) -> None:
        queues = self.listeners.get(run_id)
        if queues and queue in queues:
            queues.remove(queue)
            if not queues:
                del self.listeners[run_id]

    def emit(self, run_id: str, name: str, data: dict) -> None:
        queues = self.listeners.get(run_id)
        if queues:
            payload = json.dumps(data)   # snapshot now: the object keeps changing
            for queue in queues:
                queue.put_nowait((name, payload))

    def prompt(self, thread_id: str) -> list[model.PromptMessage]:
        records = self.store.records
        return [model.PromptMessage(m.obj["role"], model.message_text(m.obj["content"]))
                for m in (records[i] for i in self.store.children("message", thread_id))
                if m.obj["status"] != "in_progress"]

    async def pause(self, rec: Record) -> bool:
        """Between tokens: wait --token-delay-ms; False when the run left in_progress meanwhile."""
        delay = self.settings.token_delay_seconds
        await asyncio.sleep(delay)
        return rec.obj["status"] == "in_progress"

    def new_step(self, rec: Record, details: dict) -> Record:
        step_id = self.ids.new("step")
        step = self.store.new("step", step_id, rec.owner, rec.id, objects.step(step_id, self.clock.now(), rec.obj, details))
        rec.extra["step_id"] = step_id
        self.emit(rec.id, "thread.run.step.created", step.obj)
        self.emit(rec.id, "thread.run.step.in_progress", step.obj)
        return step

    def complete_step(self, rec: Record, step: Record, prompt: int, completion: int) -> None:
        step.obj.update(status="completed", completed_at=self.clock.now(), usage=objects.usage(prompt, completion))
        self.store.touch(step)
        rec.extra.pop("step_id", None)
        self.emit(rec.id, "thread.run.step.completed", step.obj)

    def step_delta(self, rec: Record, step_id: str, call: dict) -> None:
        self.emit(rec.id, "thread.run.step.delta", {"id": step_id, "object": "thread.run.step.delta",
                                                    "delta": {"step_details": {"type": "tool_calls",
                                                                               "tool_calls": [call]}}})
