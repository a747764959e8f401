"""The run engine: thread locks, the run lifecycle, expiry, and the events streams are made of.

All state changes happen synchronously between awaits of the single asyncio loop, so every suspension
point sees consistent objects. A run that is queued or in_progress has a task; a run waiting in
requires_action has none (only its expiry deadline, checked by ``sweep``); terminal runs have neither.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from . import model, objects, tool_turns
from .errors import bad_request
from .ids import Clock, IdFactory
from .run_output import RunOutput, Settings
from .store import Record, Store
from .vector_index import expired_store_error

log = logging.getLogger("assistants_conformance.reference")

LOCKING = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
# Events after which a run's stream ends (followed by `done`).
STREAM_END = frozenset({"thread.run.completed", "thread.run.incomplete", "thread.run.failed",
                        "thread.run.cancelled", "thread.run.expired", "thread.run.requires_action", "error"})


class Engine(RunOutput):
    def __init__(self, store: Store, settings: Settings, ids: IdFactory, clock: Clock) -> None:
        super().__init__(store, settings, ids, clock)
        self.locks: dict[str, str] = {}                      # thread id -> id of the run holding it
        self.live: dict[str, Record] = {}                    # non-terminal runs
        self.tasks: dict[str, asyncio.Task] = {}
        self.mutate_at: dict[str, float] = {}                # fault terminal-run-mutates: run id -> flip time

    # ---- locking ----------------------------------------------------------------------------------------
    def check_unlocked(self, thread_id: str, owner: str | None = None) -> None:
        if "no-thread-lock" in self.faults:
            return
        holder = self.locks.get(thread_id)
        if holder is None and "global-lock" in self.faults:   # any active run of the same key locks every thread
            holder = next((run_id for run_id in self.locks.values()
                           if (held := self.store.records.get(run_id)) is not None and held.owner == owner), None)
        if holder is not None:
            raise bad_request(f"Thread {thread_id} already has an active run {holder}.")

    def _release(self, rec: Record) -> None:
        run = rec.obj
        if run["status"] == "cancelled" and "lock-kept-after-cancel" in self.faults:
            return
        if run["status"] == "expired" and "lock-kept-after-expiry" in self.faults:
            return
        if run["status"] == "completed" and "lock-kept-after-completion" in self.faults:
            return
        if self.locks.get(run["thread_id"]) == rec.id:
            del self.locks[run["thread_id"]]

    # ---- run creation -------------------------------------------------------------------------------------
    def start_run(self, thread: Record, asst: Record, body: dict, owner: str | None) -> Record:
        """Insert a queued run and take the thread's lock. No await here: check-and-insert is atomic."""
        now = self.clock.now()
        expiry = self.settings.run_expiry_seconds
        expires_at = now + expiry if isinstance(now, float) else int(now + expiry)
        if "expires-at-missing" in self.faults:
            expires_at = None   # the deadline below still applies: only the field is missing
        run_id = self.ids.new("run")
        obj = objects.run(run_id, now, thread.id, asst.obj, body, expires_at,
                          "run" if "wrong-object" in self.faults else "thread.run")
        rec = self.store.new("run", run_id, owner, thread.id, obj,
                             {"deadline": time.time() + expiry, "prompt": 0, "completion": 0})
        self.locks[thread.id] = run_id
        self.live[run_id] = rec
        return rec

    def launch(self, rec: Record, outputs: list[tuple[str, str]] | None = None) -> None:
        """Announce a queued run and start driving it (after the caller committed it)."""
        if outputs is None:
            self.emit(rec.id, "thread.run.created", rec.obj)
        self.emit(rec.id, "thread.run.queued", rec.obj)
        self.tasks[rec.id] = asyncio.get_running_loop().create_task(self._drive(rec, outputs))

    # ---- driving a run ------------------------------------------------------------------------------------
    async def _drive(self, rec: Record, outputs: list[tuple[str, str]] | None) -> None:
        run = rec.obj
        try:
            await asyncio.sleep(0)
            if run["status"] != "queued":
                return
            run["status"] = "in_progress"
            if run["started_at"] is None:
                run["started_at"] = run["created_at"] - 5 if "started-before-created" in self.faults else self.clock.now()
            self.store.touch(rec)
            self.emit(rec.id, "thread.run.in_progress", run)
            if "expired-store-runs" not in self.faults:   # the docs: runs that use expired vector stores fail
                stale = expired_store_error(self.store, run)
                if stale is not None:
                    self._finish(rec, "failed", last_error=stale)
                    return
            turn = model.decide(
                instructions=run["instructions"], messages=self.prompt(run["thread_id"]), tools=run["tools"],
                tool_choice=self._tool_choice(run), parallel_tool_calls=run["parallel_tool_calls"],
                tool_outputs=outputs, truncation=run["truncation_strategy"],
                max_prompt_tokens=run["max_prompt_tokens"])
            rec.extra["prompt"] += turn.prompt_tokens
            if turn.kind == "text" and outputs is None:   # a file_search / code_interpreter step may come first
                turn = await tool_turns.hosted_turn(self, rec, turn)
                if turn is None:   # the run left in_progress during the tool step
                    return
            if turn.kind == "prompt_too_long":
                self._finish(rec, "incomplete", incomplete_details={"reason": "max_prompt_tokens"})
            elif turn.kind == "fail":
                self._finish(rec, "failed", last_error={"code": turn.error_code, "message": turn.error_message})
            elif turn.kind == "tool_calls":
                await self._tool_calls(rec, turn)
            else:
                await self._message(rec, turn)
        except asyncio.CancelledError:
            raise   # cancel/expiry finalize the run themselves
        except Exception:   # an engine bug must not leave a thread locked forever
            log.exception("run %s failed", rec.id)
            if run["status"] not in TERMINAL:
                self.emit(rec.id, "error", {"type": "server_error", "message": "The server had an error while "
                                            "processing the run.", "param": None, "code": "server_error"})
                self._finish(rec, "failed", last_error={"code": "server_error",
                                                        "message": "The server had an error while processing the run."})
        finally:
            if self.tasks.get(rec.id) is asyncio.current_task():
                del self.tasks[rec.id]

    def _tool_choice(self, run: dict) -> Any:
        choice = run["tool_choice"]
        if "named-tool-choice-ignored" in self.faults and isinstance(choice, dict) and choice.get("type") == "function":
            return "none"   # the fault: a forced function call is dropped and the model answers in text
        return choice

    async def _message(self, rec: Record, turn: model.Turn) -> None:
        run = rec.obj
        msg_id = self.ids.new("message")
        pointed = self.ids.new("message") if "step-wrong-message" in self.faults else msg_id
        step = self.new_step(rec, {"type": "message_creation", "message_creation": {"message_id": pointed}})
        msg = self.store.new("message", msg_id, rec.owner, run["thread_id"], objects.message(
            msg_id, self.clock.now(), run["thread_id"], {"role": "assistant", "content": []},
            assistant_id=run["assistant_id"], run_id=rec.id, status="in_progress"))
        rec.extra["message_id"] = msg_id
        self.emit(rec.id, "thread.message.created", msg.obj)
        self.emit(rec.id, "thread.message.in_progress", msg.obj)

        tokens = model.tokenize(turn.text)
        limit = run["max_completion_tokens"]
        cut = False
        if limit is not None and "no-incomplete" not in self.faults:
            budget = max(0, limit - rec.extra["completion"])
            cut = len(tokens) > budget
            tokens = tokens[:budget]
        part = objects.text_part("")
        msg.obj["content"].append(part)
        delay = self.settings.token_delay_seconds
        notes = tool_turns.notes_per_token(tokens, turn.annotations)   # each goes out with its marker's token
        for i, token in enumerate(tokens):
            if (delay or i % 200 == 199) and not await self.pause(rec):
                return
            part["text"]["value"] += token
            rec.extra["completion"] += 1
            piece: dict[str, Any] = {"index": 0, "type": "text", "text": {"value": token}}
            if i == 0 or notes[i]:
                piece["text"]["annotations"] = tool_turns.attach_notes(part, notes[i])
            self.emit(rec.id, "thread.message.delta",
                      {"id": msg_id, "object": "thread.message.delta", "delta": {"content": [piece]}})
        if not cut:
            tool_turns.add_parts(self, rec, msg, turn.parts)
        now = self.clock.now()
        if cut:
            msg.obj.update(status="incomplete", incomplete_at=now, incomplete_details={"reason": "max_tokens"})
        else:
            msg.obj.update(status="completed", completed_at=now)
        self.store.touch(msg)
        rec.extra.pop("message_id", None)
        self.emit(rec.id, "thread.message.incomplete" if cut else "thread.message.completed", msg.obj)
        self.complete_step(rec, step, turn.prompt_tokens, len(tokens))
        if cut:
            self._finish(rec, "incomplete", incomplete_details={"reason": "max_completion_tokens"})
        else:
            self._finish(rec, "completed")

    async def _tool_calls(self, rec: Record, turn: model.Turn) -> None:
        run = rec.obj
        step = self.new_step(rec, {"type": "tool_calls", "tool_calls": []})
        calls = [(self.ids.new("call"), name, args) for name, args in turn.calls]
        completion = 0
        for index, (call_id, name, args) in enumerate(calls):
            shown_id = call_id + "x" if "tool-call-id-mismatch" in self.faults else call_id
            entry = {"id": shown_id, "type": "function", "function": {"name": name, "arguments": "", "output": None}}
            step.obj["step_details"]["tool_calls"].append(entry)
            self.step_delta(rec, step.id, {"index": index, **json.loads(json.dumps(entry))})
            for fragment in model.tokenize(args):
                if self.settings.token_delay_seconds and not await self.pause(rec):
                    return
                entry["function"]["arguments"] += fragment
                completion += 1
                self.step_delta(rec, step.id, {"index": index, "type": "function",
                                                "function": {"arguments": fragment}})
        rec.extra["completion"] += completion
        rec.extra["pending"] = {"step_id": step.id, "calls": [[c, n] for c, n, _ in calls],
                                "prompt": turn.prompt_tokens, "completion": completion}
        self.store.touch(step)
        run["status"] = "requires_action"
        as_object = "tool-arguments-object" in self.faults   # arguments must be a JSON *string*
        run["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
            {"id": c, "type": "function", "function": {"name": n, "arguments": json.loads(a) if as_object else a}}
            for c, n, a in calls]}}
        self.store.touch(rec)
        self.emit(rec.id, "thread.run.requires_action", run)

    # ---- submit, cancel ---------------------------------------------------------------------------------
    def submit_tool_outputs(self, rec: Record, outputs: list[dict]) -> bool:
        """Validate and apply tool outputs; True when the run was resumed (caller commits, then resumes)."""
        run = rec.obj
        self.refresh(rec)
        if run["status"] == "expired" and "expired-accepts-submit" in self.faults:
            return False
        if run["status"] != "requires_action":
            raise bad_request(f"Runs in status \"{run['status']}\" do not accept tool outputs.")
        pending = rec.extra["pending"]
        expected = [c for c, _ in pending["calls"]]
        given = [o.get("tool_call_id") for o in outputs]
        if sorted(given) != sorted(expected):
            missing = sorted(set(expected) - set(given))
            if missing:
                raise bad_request(f"Expected tool outputs for call_ids {expected}, got {given}.", "tool_outputs")
            raise bad_request(f"Unknown or repeated tool_call_id in tool_outputs: expected {expected}, got {given}.",
                              "tool_outputs")
        if "submit-keeps-waiting" in self.faults:
            return False   # answered 200 as is: the run keeps waiting on the same calls
        by_id = {o["tool_call_id"]: o.get("output", "") for o in outputs}
        names = dict((c, n) for c, n in pending["calls"])
        step = self.store.records[pending["step_id"]]
        for entry in step.obj["step_details"]["tool_calls"]:
            entry["function"]["output"] = by_id.get(entry["id"], by_id.get(entry["id"].removesuffix("x")))
        self.complete_step(rec, step, pending["prompt"], pending["completion"])
        rec.extra["resume"] = [(names[c], by_id[c]) for c in expected]
        del rec.extra["pending"]
        run.update(status="queued", required_action=None)
        self.store.touch(rec)
        return True

    def resume(self, rec: Record) -> None:
        self.launch(rec, rec.extra.pop("resume"))

    def cancel(self, rec: Record) -> None:
        run = rec.obj
        self.refresh(rec)
        if "ignore-cancel" in self.faults:
            return
        if run["status"] not in ("queued", "in_progress", "requires_action"):
            raise bad_request(f"Cannot cancel run with status '{run['status']}'.")
        # required_action is null whenever no action is required, so it goes as the run leaves requires_action.
        run.update(status="cancelling", required_action=None)
        self.store.touch(rec)
        self.emit(rec.id, "thread.run.cancelling", run)
        task = self.tasks.pop(rec.id, None)
        if task is not None:
            task.cancel()
        # Finish on the next loop turn, so the cancel answer shows `cancelling` as OpenAI's does.
        asyncio.get_running_loop().call_soon(self._finish_cancel, rec)

    def _finish_cancel(self, rec: Record) -> None:
        if rec.obj["status"] == "cancelling":
            self._interrupt(rec, step_status="cancelled", message_reason="run_cancelled")
            self._finish(rec, "cancelled")

    # ---- expiry -------------------------------------------------------------------------------------------
    def refresh(self, rec: Record) -> None:
        """Apply expiry now if it is due, so a read never shows a live run past its deadline."""
        if rec.obj["status"] in TERMINAL:
            if rec.id in self.mutate_at and time.time() >= self.mutate_at[rec.id]:
                del self.mutate_at[rec.id]
                rec.obj["status"] = "expired"
                self.store.touch(rec)
            return
        if "ignore-expiry" not in self.faults and time.time() >= rec.extra.get("deadline", float("inf")):
            self._expire(rec)

    def sweep(self) -> None:
        for rec in list(self.live.values()):
            self.refresh(rec)
        for run_id in [r for r, at in self.mutate_at.items() if time.time() >= at]:
            rec = self.store.records.get(run_id)
            if rec is None:
                del self.mutate_at[run_id]
            else:
                self.refresh(rec)

    def _expire(self, rec: Record) -> None:
        task = self.tasks.pop(rec.id, None)
        if task is not None:
            task.cancel()
        self._interrupt(rec, step_status="expired", message_reason="run_expired")
        self._finish(rec, "expired")

    def _interrupt(self, rec: Record, step_status: str, message_reason: str) -> None:
        """Close the step and message a run was producing when it was cancelled or expired."""
        now = self.clock.now()
        message_id = rec.extra.pop("message_id", None)
        msg = self.store.records.get(message_id) if message_id else None
        if msg is not None and msg.obj["status"] == "in_progress":
            msg.obj.update(status="incomplete", incomplete_at=now, incomplete_details={"reason": message_reason})
            self.store.touch(msg)
            self.emit(rec.id, "thread.message.incomplete", msg.obj)
        step_id = rec.extra.pop("step_id", None)
        step = self.store.records.get(step_id) if step_id else None
        if step is not None and step.obj["status"] == "in_progress":
            stamp = "expired_at" if step_status == "expired" else f"{step_status}_at"
            step.obj.update({"status": step_status, stamp: now})
            self.store.touch(step)
            self.emit(rec.id, f"thread.run.step.{step_status}", step.obj)
        rec.extra.pop("pending", None)

    # ---- terminal ---------------------------------------------------------------------------------------
    def _finish(self, rec: Record, status: str, **fields: Any) -> None:
        run = rec.obj
        now = self.clock.now()
        run.update(status=status, required_action=None, expires_at=None, **fields)
        if status in ("completed", "failed", "cancelled"):
            stamp = f"{status}_at"
            run[stamp] = None if (status == "completed" and "completed-at-missing" in self.faults) else now
        run["usage"] = None if "no-usage" in self.faults else objects.usage(rec.extra["prompt"], rec.extra["completion"])
        if status == "completed" and "error-on-success" in self.faults:
            run["last_error"] = {"code": "server_error", "message": "The server had an error while processing the run."}
        self.live.pop(rec.id, None)
        self._release(rec)
        if status == "completed" and "terminal-run-mutates" in self.faults:
            self.mutate_at[rec.id] = rec.extra["deadline"]
        self.store.touch(rec)
        self.emit(rec.id, f"thread.run.{status}", run)

    # ---- deletion and restart -------------------------------------------------------------------------
    def forget_thread(self, thread_id: str) -> None:
        """Stop every run of a thread that is being deleted."""
        for run_id in self.store.children("run", thread_id):
            task = self.tasks.pop(run_id, None)
            if task is not None:
                task.cancel()
            self.live.pop(run_id, None)
            self.mutate_at.pop(run_id, None)
        self.locks.pop(thread_id, None)

    def resolve_interrupted(self) -> int:
        """At start: runs a crash left non-terminal become failed (server_error); never locked forever."""
        count = 0
        for rec in [r for r in self.store.records.values() if r.kind == "run" and r.obj["status"] not in TERMINAL]:
            rec.extra.setdefault("prompt", 0)
            rec.extra.setdefault("completion", 0)
            self._interrupt(rec, step_status="failed", message_reason="run_failed")
            self._finish(rec, "failed", last_error={"code": "server_error",
                                                    "message": "The server restarted while the run was active."})
            count += 1
        # Steps and messages whose run ended without them being closed (e.g. the crash hit between writes).
        for rec in self.store.records.values():
            if rec.obj.get("status") == "in_progress" and rec.kind in ("step", "message"):
                if rec.kind == "step":
                    rec.obj.update(status="failed", failed_at=self.clock.now(),
                                   last_error={"code": "server_error", "message": "The server restarted."})
                else:
                    rec.obj.update(status="incomplete", incomplete_at=self.clock.now(),
                                   incomplete_details={"reason": "run_failed"})
                self.store.touch(rec)
        self.store.commit()
        return count
