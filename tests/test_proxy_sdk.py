"""The official openai SDK's flows through the judging proxy in front of the reference server: no
finding on the clean server, and each fault found under its check id."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

openai = pytest.importorskip("openai")
from openai import OpenAI  # noqa: E402

from proxy_helpers import findings, proxied_reference  # noqa: E402
from test_reference_sdk import Collector  # noqa: E402  (the SDK event handler those tests use)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
FORCE_WEATHER = {"type": "function", "function": {"name": "get_weather"}}
HANDBOOK = b"Travel handbook.\n\nHotel costs are refunded up to 150 euros a night.\n"


def sdk(proxy) -> OpenAI:
    return OpenAI(base_url=proxy.base_url, api_key="sk-proxy-test-key", max_retries=0, timeout=15)


def create_and_poll(client: OpenAI, assistant) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Reply with 'pong' please"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20)
    assert run.status == "completed"
    assert client.beta.threads.runs.retrieve(thread_id=thread.id, run_id=run.id).status == "completed"
    assert client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data


def stream_with_handler(client: OpenAI, assistant) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Tell me a short story"}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id,
                                         event_handler=handler) as stream:
        stream.until_done()
    assert handler.names[-1] in ("thread.run.completed", "thread.run.incomplete") and handler.text
    client.beta.threads.messages.list(thread_id=thread.id)  # read back what the stream ended with


def function_calling(client: OpenAI, assistant) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Paris?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                   tool_choice=FORCE_WEATHER, poll_interval_ms=20)
    assert run.status == "requires_action"
    outputs = [{"tool_call_id": c.id, "output": "sunny"} for c in run.required_action.submit_tool_outputs.tool_calls]
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(thread_id=thread.id, run_id=run.id,
                                                                tool_outputs=outputs, poll_interval_ms=20)
    assert run.status == "completed"
    # the same with streams: create_run to requires_action, then submit_tool_outputs_stream
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, tool_choice=FORCE_WEATHER,
                                         event_handler=handler) as stream:
        stream.until_done()
    run = stream.current_run
    assert run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": c.id, "output": "rain"} for c in calls],
            event_handler=Collector()) as stream:
        stream.until_done()
    client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id)


def cancel(client: OpenAI, assistant) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Rome?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                   tool_choice=FORCE_WEATHER, poll_interval_ms=20)
    client.beta.threads.runs.cancel(thread_id=thread.id, run_id=run.id)
    run = client.beta.threads.runs.poll(thread_id=thread.id, run_id=run.id, poll_interval_ms=20)
    assert run.status == "cancelled"
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content="still there?")  # unlocked


def file_search(client: OpenAI) -> None:
    store = client.vector_stores.create(name="Handbook")
    batch = client.vector_stores.file_batches.upload_and_poll(vector_store_id=store.id,
                                                              files=[("handbook.txt", HANDBOOK)], poll_interval_ms=20)
    assert batch.status == "completed"
    assistant = client.beta.assistants.create(model="reference-1", instructions="Answer from the handbook.",
                                              tools=[{"type": "file_search"}],
                                              tool_resources={"file_search": {"vector_store_ids": [store.id]}})
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "How much of a hotel night is refunded?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20)
    assert run.status == "completed"
    client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id)
    client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id)


def test_sdk_flows_through_the_proxy_have_no_findings_on_the_clean_server(tmp_path):
    with proxied_reference(tmp_path, token_delay_ms=1,
                           proxy_args=("--record", str(tmp_path / "flows.har"))) as proxy:
        client = sdk(proxy)
        assistant = client.beta.assistants.create(model="reference-1", instructions="Be brief.", tools=[WEATHER])
        create_and_poll(client, assistant)
        stream_with_handler(client, assistant)
        function_calling(client, assistant)
        cancel(client, assistant)
        file_search(client)
        client.beta.assistants.list()
        big = bytes(range(256)) * 24_000  # 6 MB: uvicorn hands it over in pieces, forwarded as they arrive
        uploaded = client.files.create(file=("big.bin", big), purpose="assistants")
        assert uploaded.bytes == len(big) and client.files.content(uploaded.id).read() == big
        results = proxy.stop()
    assert findings(results) == {}, json.dumps(findings(results), indent=1)
    judged = {c["id"] for c in results["checks"]}
    assert {"FUZZ-001", "OBJ-001", "OBJ-004", "STREAM-004", "STREAM-010", "STREAM-006", "LIFE-001",
            "LIFE-012", "LOCK-001"} <= judged, judged
    assert results["proxy"]["exchanges"] > 30 and results["proxy"]["dropped_judgements"] == 0
    assert results["_exit_code"] == 0
    offline = tmp_path / "offline"
    done = subprocess.run([sys.executable, "-m", "assistants_conformance.cli", "judge", str(tmp_path / "flows.har"),
                           "--report-dir", str(offline)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    replayed = json.loads((offline / "results.json").read_text())
    assert findings(replayed) == {} and replayed["proxy"]["exchanges"] == results["proxy"]["exchanges"]
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (proxy.report_dir / name).exists()


# --- faults: each found under its check id ---------------------------------------------------------------


def message_on_locked_thread(client: OpenAI, assistant, proxy) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Oslo?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                   tool_choice=FORCE_WEATHER, poll_interval_ms=20)
    assert run.status == "requires_action"
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content="are you there?")  # the fault: 200
    calls = run.required_action.submit_tool_outputs.tool_calls
    client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": c.id, "output": "snow"} for c in calls],
        poll_interval_ms=20)


def simultaneous_runs(client: OpenAI, assistant, proxy) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Lima?"}])

    def create(_):
        try:
            return client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id,
                                                   tool_choice=FORCE_WEATHER)
        except openai.BadRequestError:
            return None

    with ThreadPoolExecutor(4) as pool:
        runs = [r for r in pool.map(create, range(4)) if r is not None]
    assert len(runs) >= 2, "the lock-race fault let only one run through"
    for run in runs:
        client.beta.threads.runs.poll(thread_id=thread.id, run_id=run.id, poll_interval_ms=20)


def streamed_run(client: OpenAI, assistant, proxy) -> None:
    stream_with_handler(client, assistant)


def terminal_run_reread(client: OpenAI, assistant, proxy) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Reply with 'pong' please"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20)
    assert run.status == "completed"
    time.sleep(2.2)  # past the 2 s expiry window the fault flips completed runs to expired
    client.beta.threads.runs.retrieve(thread_id=thread.id, run_id=run.id)


def read_an_assistant(client: OpenAI, assistant, proxy) -> None:
    client.beta.assistants.retrieve(assistant.id)


def unknown_assistant(client: OpenAI, assistant, proxy) -> None:
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve("asst_does_not_exist")


def malformed_json(client: OpenAI, assistant, proxy) -> None:
    answer = httpx.post(f"{proxy.base_url}/threads", content=b'{"messages": [', timeout=10,
                        headers={"Authorization": "Bearer sk-proxy-test-key", "Content-Type": "application/json",
                                 "OpenAI-Beta": "assistants=v2"})
    assert answer.status_code == 500  # the fault; it reached the client unchanged


FAULTS = [
    ("no-thread-lock", message_on_locked_thread, "LOCK-001", {}),
    ("lock-race", simultaneous_runs, "LOCK-006", {}),
    ("stream-reorder", streamed_run, "STREAM-004", {}),
    ("terminal-run-mutates", terminal_run_reread, "LIFE-012", {"run_expiry_seconds": 2}),
    ("float-timestamps", read_an_assistant, "OBJ-001", {}),
    ("detail-errors", unknown_assistant, "ERR-014", {}),
    ("bad-json-500", malformed_json, "FUZZ-001", {}),
]


@pytest.mark.parametrize("fault, flow, check_id, server_kw", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_found_under_its_check_id(tmp_path, fault, flow, check_id, server_kw):
    har = tmp_path / "traffic.har"
    with proxied_reference(tmp_path, fault, token_delay_ms=1, proxy_args=("--record", str(har)), **server_kw) as proxy:
        client = sdk(proxy)
        assistant = client.beta.assistants.create(model="reference-1", instructions="Be brief.", tools=[WEATHER])
        flow(client, assistant, proxy)
        results = proxy.stop()
    found = findings(results)
    assert check_id in found, f"{fault}: expected a {check_id} finding, got {json.dumps(found, indent=1)}"
    assert found[check_id].startswith(f"[{check_id} MUST]")
    record = next(c for c in results["checks"] if c["id"] == check_id)
    assert record["evidence"] and "sk-proxy-test-key" not in json.dumps(results)
    assert results["_exit_code"] == 1
    # the recording, judged offline, gives the same finding
    offline = tmp_path / "offline"
    done = subprocess.run([sys.executable, "-m", "assistants_conformance.cli", "judge", str(har), "--report-dir",
                           str(offline)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert check_id in findings(json.loads((offline / "results.json").read_text()))


def test_the_azure_sdk_through_the_proxy_has_no_findings(tmp_path):
    """AzureOpenAI's own flow (threads, messages, a function run submitted and polled, a 404) judged under
    --dialect azure: the /openai routes, api-version, the azure contract overlay."""
    har = tmp_path / "azure.har"
    with proxied_reference(tmp_path, dialect="azure", token_delay_ms=1, proxy_args=("--record", str(har))) as proxy:
        azure = openai.AzureOpenAI(azure_endpoint=proxy.root_url, api_version="2024-08-01-preview",
                                   api_key="sk-proxy-test-key", max_retries=0, timeout=15)
        assistant = azure.beta.assistants.create(model="reference-1", instructions="Be brief.", tools=[WEATHER])
        thread = azure.beta.threads.create(messages=[{"role": "user", "content": "Weather in Oslo?"}])
        azure.beta.threads.update(thread.id, metadata={"seen": "yes"})
        run = azure.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                      tool_choice=FORCE_WEATHER, poll_interval_ms=20)
        calls = run.required_action.submit_tool_outputs.tool_calls
        run = azure.beta.threads.runs.submit_tool_outputs_and_poll(
            thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": c.id, "output": "snow"} for c in calls],
            poll_interval_ms=20)
        assert run.status == "completed"
        azure.beta.threads.messages.list(thread.id)
        with pytest.raises(openai.NotFoundError):
            azure.beta.threads.retrieve("thread_does_not_exist")
        results = proxy.stop()
    assert findings(results) == {}, json.dumps(findings(results), indent=1)
    assert {"OBJ-004", "LIFE-001", "ERR-014"} <= {c["id"] for c in results["checks"]}
    # judged offline with no options: the recording says its dialect and API base (/openai)
    done = subprocess.run([sys.executable, "-m", "assistants_conformance.cli", "judge", str(har), "--report-dir",
                           str(tmp_path / "offline")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    replayed = json.loads((tmp_path / "offline" / "results.json").read_text())
    assert replayed["proxy"]["unrouted"] == 0 and replayed["target"]["dialect"] == "azure"
