"""Run expiry and crash recovery of the reference server (real processes, real SQLite file)."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx

from reference_server import poll_run, running_server, start_server, stop_server

TIMEOUT = httpx.Timeout(10.0)
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}


def test_run_expires_rejects_late_outputs_and_unlocks(tmp_path):
    with running_server(tmp_path, "--run-expiry-seconds", "2") as server, \
            httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as http:
        assistant = http.post("/assistants", json={"model": "m", "tools": [TOOL]}).json()
        run = http.post("/threads/runs", json={"assistant_id": assistant["id"], "tool_choice": "required"}).json()
        assert run["expires_at"] == run["created_at"] + 2
        run = poll_run(http, run["thread_id"], run["id"], ("queued", "in_progress"))
        assert run["status"] == "requires_action"
        call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        run = poll_run(http, run["thread_id"], run["id"], ("requires_action",), bound=5)
        assert run["status"] == "expired" and run["required_action"] is None and run["expires_at"] is None
        late = http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs",
                         json={"tool_outputs": [{"tool_call_id": call, "output": "x"}]})
        assert late.status_code == 400 and late.json()["error"]["type"] == "invalid_request_error"
        steps = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
        assert steps[0]["status"] == "expired" and steps[0]["expired_at"]
        assert http.post(f"/threads/{run['thread_id']}/messages",
                         json={"role": "user", "content": "again"}).status_code == 200


def test_crash_keeps_acknowledged_objects_and_fails_interrupted_runs(tmp_path):
    db = tmp_path / "crash.sqlite3"
    server = start_server(db, "--token-delay-ms", "50")
    made: dict[str, str] = {}

    async def burst(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as client:
            assistant = (await client.post("/assistants", json={"model": "m"})).json()["id"]
            made[assistant] = "assistant"

            async def one(i: int) -> None:
                run = await client.post("/threads/runs", json={
                    "assistant_id": assistant, "metadata": {"i": str(i)},
                    "thread": {"messages": [{"role": "user", "content": "Write 200 words."}]}})
                if run.status_code == 200:
                    made[run.json()["id"]] = run.json()["thread_id"]
            await asyncio.gather(*[one(i) for i in range(30)])
    try:
        asyncio.run(burst(server.base_url))
    finally:
        stop_server(server.process, signal.SIGKILL)
    assert len(made) == 31

    with running_server(tmp_path, db_name=db.name) as again, \
            httpx.Client(base_url=again.base_url, timeout=TIMEOUT) as http:
        for object_id, thread_id in made.items():
            if thread_id == "assistant":
                assert http.get(f"/assistants/{object_id}").status_code == 200
                continue
            run = http.get(f"/threads/{thread_id}/runs/{object_id}").json()
            assert run["status"] == "failed" and run["last_error"]["code"] == "server_error", run
            assert run["failed_at"] and run["expires_at"] is None
            # never locked forever: the thread takes a new message at once
            assert http.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": "hi"}).status_code == 200


def test_sigterm_shuts_down_cleanly(tmp_path):
    server = start_server(tmp_path / "term.sqlite3")
    started = time.monotonic()
    assert stop_server(server.process) == 0
    assert time.monotonic() - started < 5
