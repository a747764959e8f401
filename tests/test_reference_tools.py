"""Reference server tools: the sandbox's bounds, BM25 ranking, and file_search / code_interpreter runs."""

from __future__ import annotations

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
