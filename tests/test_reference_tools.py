"""Reference server tools: the sandbox's bounds, BM25 ranking, and file_search / code_interpreter runs."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import pytest

from assistants_conformance.reference import sandbox
from assistants_conformance.reference.sandbox import run_python
from assistants_conformance.reference.search import rank, terms


# ---- sandbox ----------------------------------------------------------------------------------------------

def test_sandbox_runs_a_program_with_its_files_and_collects_what_it_writes():
    code = "data = open('numbers.txt').read().split()\nprint(sum(map(int, data)))\nopen('total.txt', 'w').write('6')\n"
    result = run_python(code, {"numbers.txt": b"1 2 3", "../evil/../numbers2.txt": b"x"}, timeout_s=5, memory_mb=256)
    assert (result.exit_code, result.stdout, result.timed_out) == (0, "6\n", False)
    assert result.outputs == {"total.txt": b"6"}   # inputs (also the one renamed to its basename) are not outputs


def test_sandbox_kills_an_infinite_loop_at_the_wall_clock_bound():
    started = time.monotonic()
    result = run_python("while True:\n    pass\n", timeout_s=0.5, memory_mb=256)
    assert result.timed_out and result.exit_code == -9 and result.outputs == {}
    assert time.monotonic() - started < 2.0


def test_sandbox_refuses_a_memory_bomb():
    result = run_python("x = bytearray(4 * 1024 ** 3)\nprint('allocated')\n", timeout_s=5, memory_mb=128)
    assert result.exit_code != 0 and "MemoryError" in result.stderr and "allocated" not in result.stdout


def test_sandbox_has_no_network(tmp_path):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        for code in (f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n",
                     f"import _socket\n_socket.socket().connect(('127.0.0.1', {port}))\n",
                     f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=1)\n"):
            result = run_python(code, timeout_s=5, memory_mb=256)
            assert result.exit_code == 1 and "network access is disabled" in result.stderr, result.stderr
    finally:
        listener.close()


@pytest.mark.skipif(not sandbox.network_namespace_available(), reason="no unprivileged network namespace here")
def test_sandbox_network_namespace_holds_even_where_the_shim_is_bypassed():
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        # libc connect() through ctypes goes around the shim; the empty namespace has no usable loopback.
        code = ("import ctypes, ctypes.util, struct, sys\n"
                "libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)\n"
                "fd = libc.socket(2, 1, 0)\n"
                f"addr = struct.pack('=H', 2) + struct.pack('>H', {port}) + bytes([127, 0, 0, 1]) + bytes(8)\n"
                "print(libc.connect(fd, addr, 16))\n")
        result = run_python(code, timeout_s=5, memory_mb=256)
    assert result.exit_code == 0 and result.stdout == "-1\n", (result.stdout, result.stderr)


def test_sandbox_bounds_output_and_clears_the_environment():
    result = run_python("import os\nprint(sorted(os.environ))\nprint('x' * 200000)\n", timeout_s=5, memory_mb=256)
    assert result.stdout.startswith("['LC_CTYPE']") or result.stdout.startswith("[]")
    assert len(result.stdout) <= sandbox.MAX_LOG_BYTES + len(sandbox.TRUNCATED_NOTE)
    assert result.stdout.endswith(sandbox.TRUNCATED_NOTE)


def test_sandbox_cancel_kills_the_program():
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    result = run_python("import time\ntime.sleep(30)\n", timeout_s=10, memory_mb=256, cancel=cancel)
    assert result.cancelled and not result.timed_out and time.monotonic() - started < 2.0


# ---- BM25 ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FakeChunk:   # stands in for reference.chunking.Chunk: rank() only reads .text
    text: str


def test_bm25_puts_the_chunk_with_the_rare_query_terms_first():
    chunks = [FakeChunk("The cafeteria opens at nine and serves lunch until two."),
              FakeChunk("Employees get twenty vacation days per year; unused vacation days expire in March."),
              FakeChunk("The office is closed on public holidays. Parking is free for employees.")]
    ranked = rank(chunks, "How many vacation days do employees get?", k=3)
    assert [c for c, _ in ranked][0] is chunks[1]
    assert all(0 < s < 1 for _, s in ranked) and [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert chunks[0] not in [c for c, _ in ranked]      # no shared term: left out
    assert rank(chunks, "vacation", k=1) == ranked[:1] or rank(chunks, "vacation", k=1)[0][0] is chunks[1]
    assert rank(chunks, "zebra") == [] and rank([], "vacation") == []


def test_bm25_single_chunk_scores_positive_and_threshold_filters():
    only = [FakeChunk("Refunds are paid within 14 days.")]
    [(chunk, score)] = rank(only, "when are refunds paid")
    assert chunk is only[0] and score > 0
    assert rank(only, "when are refunds paid", score_threshold=0.999) == []


def test_terms_split_japanese_into_bigrams_and_drop_stop_words():
    assert terms("What is the Refund policy?") == ["refund", "policy"]
    assert terms("東京は首都") == ["東京", "京は", "は首", "首都"]
    ranked = rank([FakeChunk("大阪の天気は晴れ"), FakeChunk("東京は日本の首都です")], "日本の首都はどこ")
    assert ranked[0][0].text.startswith("東京")


# ---- runs with hosted tools (real HTTP on 127.0.0.1) -------------------------------------------------------------

import json  # noqa: E402

import httpx  # noqa: E402

from assistants_conformance.protocol.grammar import load_grammar  # noqa: E402
from assistants_conformance.protocol.stream_rules import check_stream  # noqa: E402
from assistants_conformance.spec import load_contract  # noqa: E402
from reference_server import poll_run, running_server  # noqa: E402

INCLUDE = {"include[]": "step_details.tool_calls[*].file_search.results[*].content"}
POLICY = (b"Holiday policy.\n\nEmployees get twenty vacation days per year. Unused vacation days expire in March.\n\n"
          b"The cafeteria opens at nine and serves lunch until two. Parking is free for employees.\n")
LIVE = ("queued", "in_progress")
STEPS = ("GET", "/threads/{thread_id}/runs/{run_id}/steps")
MESSAGES = ("GET", "/threads/{thread_id}/messages")


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("tools"), "--token-delay-ms", "0") as server, \
            httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(15.0)) as client:
        yield client


@pytest.fixture(scope="module")
def contract():
    return load_contract()


@pytest.fixture(scope="module")
def policy_store(http):
    """(vector store id, file id) of an indexed store holding POLICY."""
    file_id = http.post("/files", files={"file": ("policy.txt", POLICY)}, data={"purpose": "assistants"}).json()["id"]
    vs_id = http.post("/vector_stores", json={"file_ids": [file_id]}).json()["id"]
    deadline = time.monotonic() + 5
    while http.get(f"/vector_stores/{vs_id}").json()["status"] == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert http.get(f"/vector_stores/{vs_id}").json()["status"] == "completed"
    return vs_id, file_id


def make_assistant(http, tools: list, tool_resources: dict | None = None) -> str:
    answer = http.post("/assistants", json={"model": "m", "tools": tools, "tool_resources": tool_resources or {}})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def run_polled(http, assistant_id: str, content: str, params: dict | None = None) -> dict:
    answer = http.post("/threads/runs", params=params, json={"assistant_id": assistant_id, "thread": {
        "messages": [{"role": "user", "content": content}]}})
    assert answer.status_code == 200, answer.text
    run = poll_run(http, answer.json()["thread_id"], answer.json()["id"], LIVE)
    assert run["status"] == "completed", run
    return run


def run_streamed(http, assistant_id: str, content: str, params: dict | None = None) -> list[tuple[str, object]]:
    body = {"assistant_id": assistant_id, "stream": True, "thread": {"messages": [{"role": "user", "content": content}]}}
    with http.stream("POST", "/threads/runs", json=body, params=params) as response:
        raw = response.read().decode()
    events = []
    for frame in filter(None, raw.split("\n\n")):
        head, data = frame.split("\n", 1)
        data = data.removeprefix("data: ")
        events.append((head.removeprefix("event: "), data if data == "[DONE]" else json.loads(data)))
    return events


def checked_steps(http, contract, run: dict, params: dict | None = None) -> list[dict]:
    answer = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps", params={"order": "asc", **(params or {})})
    assert contract.validate(STEPS, 200, answer.json()) == []
    return answer.json()["data"]


def checked_answer(http, contract, run: dict) -> dict:
    answer = http.get(f"/threads/{run['thread_id']}/messages", params={"run_id": run["id"]})
    assert contract.validate(MESSAGES, 200, answer.json()) == []
    [message] = answer.json()["data"]
    return message


def assert_ranges_exact(text: dict) -> None:
    for note in text["annotations"]:
        assert text["value"][note["start_index"]:note["end_index"]] == note["text"]
        assert note["end_index"] - note["start_index"] == len(note["text"])


def assert_stream_sound(contract, events, kind: str = "create_thread_and_run") -> None:
    assert load_grammar().check(kind, [name for name, _ in events]) == []
    assert check_stream(events, kind) == []
    for name, data in events:
        if name != "done":
            assert contract.validate_event(name, data) == [], name


def test_file_search_run_cites_the_best_chunk(http, contract, policy_store):
    vs_id, file_id = policy_store
    asst = make_assistant(http, [{"type": "file_search"}], {"file_search": {"vector_store_ids": [vs_id]}})
    run = run_polled(http, asst, "How many vacation days do employees get?", INCLUDE)
    tool_step, message_step = checked_steps(http, contract, run)
    [call] = tool_step["step_details"]["tool_calls"]
    search = call["file_search"]
    assert call["type"] == "file_search" and search["ranking_options"] == {"ranker": "default_2024_08_21",
                                                                          "score_threshold": 0.0}
    assert [(r["file_id"], r["file_name"]) for r in search["results"]] == [(file_id, "policy.txt")]
    assert 0 < search["results"][0]["score"] < 1 and "content" not in search["results"][0]   # not asked on this read
    [with_content] = checked_steps(http, contract, run, INCLUDE)[0]["step_details"]["tool_calls"]
    assert with_content["file_search"]["results"][0]["content"][0]["text"].startswith("Holiday policy.")
    message = checked_answer(http, contract, run)
    assert message_step["step_details"]["message_creation"]["message_id"] == message["id"]
    text = message["content"][0]["text"]
    assert "Employees get twenty vacation days per year." in text["value"]
    [note] = text["annotations"]
    assert note["type"] == "file_citation" and note["file_citation"]["file_id"] == file_id
    assert note["text"] == "【0:0†source】"
    assert_ranges_exact(text)
    usage = [s["usage"] for s in (tool_step, message_step)]
    assert run["usage"]["prompt_tokens"] == sum(u["prompt_tokens"] for u in usage)
    assert run["usage"]["completion_tokens"] == sum(u["completion_tokens"] for u in usage)


def test_file_search_stream_carries_results_and_annotations(http, contract, policy_store):
    vs_id, file_id = policy_store
    asst = make_assistant(http, [{"type": "file_search"}], {"file_search": {"vector_store_ids": [vs_id]}})
    events = run_streamed(http, asst, "When does the cafeteria serve lunch?", INCLUDE)
    assert_stream_sound(contract, events)
    step_deltas = [d["delta"]["step_details"]["tool_calls"][0] for n, d in events if n == "thread.run.step.delta"]
    assert step_deltas[0]["type"] == "file_search" and step_deltas[0]["id"].startswith("call_")
    assert step_deltas[-1]["file_search"]["results"][0]["content"][0]["type"] == "text"   # include[] on create
    delta_notes = [a for n, d in events if n == "thread.message.delta"
                   for part in d["delta"]["content"] for a in part["text"].get("annotations", [])]
    [final] = [d for n, d in events if n == "thread.message.completed"]
    text = final["content"][0]["text"]
    assert "serves lunch until two" in text["value"]
    assert [{k: v for k, v in a.items() if k != "index"} for a in delta_notes] == text["annotations"]
    assert [a["index"] for a in delta_notes] == list(range(len(delta_notes)))
    assert_ranges_exact(text)


def test_file_search_without_a_store_answers_plainly(http):
    asst = make_assistant(http, [{"type": "file_search"}])
    run = run_polled(http, asst, "How many vacation days do employees get?")
    steps = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
    assert [s["type"] for s in steps] == ["message_creation"]


def test_code_interpreter_solves_a_linear_equation(http, contract):
    asst = make_assistant(http, [{"type": "code_interpreter"}])
    run = run_polled(http, asst, "I need to solve the equation `3x + 11 = 14`. Can you help me?")
    tool_step, message_step = checked_steps(http, contract, run)
    [call] = tool_step["step_details"]["tool_calls"]
    assert call["type"] == "code_interpreter" and "def left(x):\n    return F(3) * x + F(11)" in call["code_interpreter"]["input"]
    assert call["code_interpreter"]["outputs"] == [{"type": "logs", "logs": "x = 1\n"}]
    message = checked_answer(http, contract, run)
    assert message["content"][0]["text"] == {"value": "The result is x = 1.", "annotations": []}
    assert tool_step["usage"]["completion_tokens"] > 20
    assert run["usage"]["total_tokens"] == tool_step["usage"]["total_tokens"] + message_step["usage"]["total_tokens"]


def test_code_interpreter_file_becomes_a_file_path_annotation(http, contract):
    asst = make_assistant(http, [{"type": "code_interpreter"}])
    run = run_polled(http, asst, "Compute 12 * (3 + 4) - 5 and write the result to a CSV file.")
    message = checked_answer(http, contract, run)
    text = message["content"][0]["text"]
    [note] = text["annotations"]
    assert note["type"] == "file_path" and note["text"] == "sandbox:/mnt/data/result.csv"
    assert_ranges_exact(text)
    made = http.get(f"/files/{note['file_path']['file_id']}").json()
    assert (made["filename"], made["purpose"]) == ("result.csv", "assistants_output")
    csv_text = http.get(f"/files/{made['id']}/content").text
    assert csv_text.splitlines() == ["problem,name,value", "12 * (3 + 4) - 5,result,79"]


def test_code_interpreter_plot_is_an_image_output_streamed(http, contract):
    asst = make_assistant(http, [{"type": "code_interpreter"}])
    events = run_streamed(http, asst, "Plot both sides of 2(y - 1) = y + 5.")
    assert_stream_sound(contract, events)
    inputs = "".join(d["delta"]["step_details"]["tool_calls"][0]["code_interpreter"].get("input", "")
                     for n, d in events if n == "thread.run.step.delta")
    [tool_done] = [d for n, d in events if n == "thread.run.step.completed" and d["type"] == "tool_calls"]
    [call] = tool_done["step_details"]["tool_calls"]
    assert inputs == call["code_interpreter"]["input"]
    logs, image = call["code_interpreter"]["outputs"]
    assert logs == {"type": "logs", "logs": "y = 7\n"} and image["type"] == "image"
    [final] = [d for n, d in events if n == "thread.message.completed"]
    assert final["content"][1] == {"type": "image_file", "image_file": {"file_id": image["image"]["file_id"]}}
    image_deltas = [p for n, d in events if n == "thread.message.delta" for p in d["delta"]["content"]
                    if p["type"] == "image_file"]
    assert image_deltas == [{"index": 1, **final["content"][1]}]
    assert http.get(f"/files/{image['image']['file_id']}/content").content.startswith(b"\x89PNG\r\n\x1a\n")


def test_code_interpreter_without_arithmetic_answers_plainly(http):
    asst = make_assistant(http, [{"type": "code_interpreter"}])
    run = run_polled(http, asst, "Write a 300-word essay on 2024-01-01.")
    steps = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
    assert [s["type"] for s in steps] == ["message_creation"]


def _sandbox_processes(marker: str = "F(9) ** F(9) ** F(9)") -> list[int]:
    """Pids of sandboxed programs containing ``marker`` (other tests may run their own programs meanwhile)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
            program = next((a for a in args if "ac-sandbox-" in a and a.endswith("program.py")), None)
            if program is not None and marker in open(program, encoding="utf-8").read():
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_cancel_during_the_program_kills_it(http):
    asst = make_assistant(http, [{"type": "code_interpreter"}])
    run = http.post("/threads/runs", json={"assistant_id": asst, "thread": {
        "messages": [{"role": "user", "content": "What is 9^9^9?"}]}}).json()   # runs until the sandbox bound
    path = f"/threads/{run['thread_id']}/runs/{run['id']}"
    deadline = time.monotonic() + 5
    while not _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sandbox_processes(), "the program never started"
    assert http.post(path + "/cancel").status_code == 200
    run = poll_run(http, run["thread_id"], run["id"], ("cancelling",) + LIVE, bound=3)
    assert run["status"] == "cancelled"
    [step] = http.get(path + "/steps").json()["data"]
    assert step["type"] == "tool_calls" and step["status"] == "cancelled"
    deadline = time.monotonic() + 2
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sandbox_processes() == []


def test_expiry_during_the_program_kills_it(tmp_path):
    with running_server(tmp_path, "--run-expiry-seconds", "1") as server, \
            httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(15.0)) as client:
        asst = make_assistant(client, [{"type": "code_interpreter"}])
        run = client.post("/threads/runs", json={"assistant_id": asst, "thread": {
            "messages": [{"role": "user", "content": "What is 9^9^9?"}]}}).json()
        run = poll_run(client, run["thread_id"], run["id"], LIVE, bound=5)
        assert run["status"] == "expired"
        [step] = client.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
        assert step["status"] == "expired"
    deadline = time.monotonic() + 2
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sandbox_processes() == []


def test_file_search_options_bound_the_results(http, contract, policy_store):
    vs_id, _ = policy_store
    tool = {"type": "file_search", "file_search": {"max_num_results": 1, "ranking_options": {
        "ranker": "auto", "score_threshold": 0.99}}}
    asst = make_assistant(http, [tool], {"file_search": {"vector_store_ids": [vs_id]}})
    run = run_polled(http, asst, "How many vacation days do employees get?")
    [call] = checked_steps(http, contract, run)[0]["step_details"]["tool_calls"]
    assert call["file_search"] == {"ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.99},
                                   "results": []}
    text = checked_answer(http, contract, run)["content"][0]["text"]
    assert text == {"value": "I could not find anything about that in the files.", "annotations": []}


# ---- the model's private rules for its tools -----------------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from assistants_conformance.reference import arithmetic, tool_model, tool_turns  # noqa: E402
from assistants_conformance.reference.store import Store  # noqa: E402


@pytest.mark.parametrize("text, shown, solution", [
    ("Solve for x: 3x + 11 = 14", "3 * x + 11 = 14", 1),
    ("2(y - 1) = y + 5", "2 * (y - 1) = y + 5", 7),
    ("What is 12 * (3 + 4) - 5?", "12 * (3 + 4) - 5", None),
    ("compute 1/3 + 1/6 please", "1 / 3 + 1 / 6", None),
])
def test_find_math_reads_equations_and_expressions(text, shown, solution):
    math = arithmetic.find_math(text)
    assert arithmetic.shown_math(math) == shown and math.solution == solution


@pytest.mark.parametrize("text", ["count to 5", "Write a 300-word essay", "Meet me on 2024-01-01", "x^2 = 4",
                                  "Is a 3 + 4 = 7?", "hello there"])
def test_find_math_leaves_other_text_alone(text):
    assert arithmetic.find_math(text) is None


def test_programs_are_built_from_the_parse_never_from_the_message():
    text = 'Solve 3x + 11 = 14 __import__("os").system("echo PWNED") and write the result to a CSV file'
    code = tool_model.program_for(arithmetic.find_math(text), tool_model.wanted_outputs(text))
    assert "PWNED" not in code and "system" not in code and "__import__" not in code
    result = run_python(code, timeout_s=5, memory_mb=256)
    assert result.stdout == "x = 1\n" and set(result.outputs) == {"result.csv"}


def test_code_interpreter_gets_the_assistant_thread_and_attachment_files(tmp_path):
    store = Store(str(tmp_path / "db.sqlite3"))
    for file_id, name in (("file-a", "a.txt"), ("file-t", "t.txt"), ("file-m", "m.txt"), ("file-s", "s.txt")):
        store.new("file", file_id, None, None, {"id": file_id, "filename": name})
        store.put_blob(file_id, name.encode())
    store.new("assistant", "asst_1", None, None, {"tool_resources": {"code_interpreter": {"file_ids": ["file-a"]}}})
    store.new("thread", "thread_1", None, None, {"tool_resources": {"code_interpreter": {"file_ids": ["file-t"]}}})
    store.new("message", "msg_1", None, "thread_1", {"attachments": [
        {"file_id": "file-m", "tools": [{"type": "code_interpreter"}]},
        {"file_id": "file-s", "tools": [{"type": "file_search"}]}]})
    files = tool_turns._code_files(SimpleNamespace(store=store), {"assistant_id": "asst_1", "thread_id": "thread_1"})
    assert files == {"a.txt": b"a.txt", "t.txt": b"t.txt", "m.txt": b"m.txt"}
    store.close()


def test_annotations_go_out_with_the_token_holding_their_marker():
    text = 'According to f.txt: "Yes."【0:0†source】 More.'
    start = text.index("【")
    note = {"type": "file_citation", "text": "【0:0†source】", "start_index": start, "end_index": start + 12}
    tokens = ["According", " to", " f.txt:", ' "Yes."【0:0†source】', " More."]
    assert tool_turns.notes_per_token(tokens, [note]) == [[], [], [], [note], []]
    assert tool_turns.notes_per_token(tokens[:3], [note]) == [[], [], []]   # cut before the marker: dropped
