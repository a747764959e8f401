"""Helpers for the load tests: run `assistants-conformance load` in-process (Locust itself runs as a
subprocess, so gevent never patches pytest) and misbehaving targets for the bad-input tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from assistants_conformance.loadtest.cli import main as load_main
from assistants_conformance.loadtest.report import SUMMARY


def run_load(tmp_path: Path, *args: str, name: str = "run") -> tuple[int, dict | None, float, str]:
    """Returns (exit code, summary or None, wall seconds, report dir)."""
    folder = tmp_path / name
    started = time.monotonic()
    code = load_main([*args, "--report-dir", str(folder)])
    elapsed = time.monotonic() - started
    path = folder / SUMMARY
    return code, json.loads(path.read_text()) if path.exists() else None, elapsed, str(folder)


def figures(summary: dict) -> dict[str, dict]:
    return {r["name"]: r for r in summary["figures"]}


@contextmanager
def raw_server(mode: str):
    """A TCP server on 127.0.0.1 whose every answer is: `garbage` a 200 with a non-JSON body, `stall`
    nothing, `trickle` headers then a body of one byte per 0.1 s, `nothttp` a line that is not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            if mode in ANSWERS:
                threading.Thread(target=ANSWERS[mode], args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()


def _garbage(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.5)
    while not stop.is_set():
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if not data:
            return
        try:  # a 200 whose body is not JSON
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n<html>?</ht>")
        except OSError:
            return


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.1):
            conn.sendall(b" ")
    except OSError:
        return


def _not_http(conn: socket.socket, stop: threading.Event) -> None:
    try:
        conn.recv(65536)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        conn.close()
    except OSError:
        return


ANSWERS = {"garbage": _garbage, "trickle": _trickle, "nothttp": _not_http}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
