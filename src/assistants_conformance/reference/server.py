"""Process entry point: arguments, the uvicorn server, background upkeep, the "listening" line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import socket
import sys
from typing import AsyncIterator

import uvicorn

from .app import API
from .engine import Engine
from .run_output import Settings
from .faults import FAULTS, UnknownFault, fault_listing, parse_faults
from .ids import Clock, IdFactory
from .store import Store

DEFAULT_DB = "./assistants-reference.sqlite3"
LISTENING_LINE = "assistants-conformance reference server listening on http://{host}:{port}"
FLUSH_INTERVAL = 0.05   # seconds between batched writes of the engine's intermediate states
SWEEP_INTERVAL = 0.2    # seconds between expiry sweeps (reads also apply expiry on the spot)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistants-conformance serve",
                                     description="Run the reference Assistants v2 server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default %(default)s; 0 picks "
                                                               "a free port)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--run-expiry-seconds", type=float, default=600.0, metavar="S",
                        help="a run left in requires_action expires after this long (default %(default)g)")
    parser.add_argument("--token-delay-ms", type=float, default=0.0, metavar="MS",
                        help="pause between streamed tokens (default %(default)g)")
    parser.add_argument("--max-file-bytes", type=int, default=512 * 1024 * 1024, metavar="N",
                        help="largest accepted upload on /v1/files (default 512 MB); larger ones get 400")
    parser.add_argument("--index-delay-ms", type=float, default=50.0, metavar="MS",
                        help="time to index one vector store file (default 50), so polling sees in_progress")
    # Hidden: tests expire vector stores in seconds (expires_after counts days of this many seconds).
    parser.add_argument("--vector-store-day-seconds", type=float, default=86_400.0, help=argparse.SUPPRESS)
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY",
                        help="accepted Bearer key (repeatable; give two for the isolation checks); none configured "
                             "= keys not enforced: any key or none is accepted")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help=f"switch on a deliberate departure from the protocol (repeatable; {len(FAULTS)} "
                             "faults, --list-faults names them)")
    parser.add_argument("--list-faults", action="store_true", help="print every fault, one per line, and exit")
    return parser


def auth_lines(keys: list[str], base_url: str) -> list[str]:
    """What `serve` says about API keys after its listening line, and how to test it with `run`."""
    run = f"assistants-conformance run --target-url {base_url}"
    if not keys:
        return ["API keys: not enforced (no --api-key given: any key or none is accepted)",
                f"  test it with: {run} --profile no-auth -- -n 2",
                "  (the no-auth profile leaves out the auth checks; to include them, restart with "
                "--api-key KEY1 --api-key KEY2 and run with --api-key KEY1 --second-api-key KEY2)"]
    second = " --second-api-key KEY2" if len(keys) > 1 else ""
    return [f"API keys: enforced ({len(keys)} accepted; a request without one of them gets 401)",
            f"  test it with: {run} --api-key KEY1{second} -- -n 2   (KEY1{second and ', KEY2'}: your --api-key values)"]


class _Server(uvicorn.Server):
    """Prints the listening line once the sockets accept connections (the harness reads it for the port)."""

    def __init__(self, config: uvicorn.Config, line: str, notes: list[str] = ()) -> None:
        super().__init__(config)
        self._line, self._notes = line, list(notes)

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises captured signals after its graceful shutdown; a requested stop that shut down
        # cleanly should exit with status 0 instead.
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            # One write (print's own newline would be a second): a reader sees the lines together.
            sys.stdout.write("".join(line + "\n" for line in [self._line, *self._notes]))
            sys.stdout.flush()


def make_lifespan(store: Store, engine: Engine):
    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        async def upkeep() -> None:
            ticks_per_sweep = max(1, round(SWEEP_INTERVAL / FLUSH_INTERVAL))
            tick = 0
            while True:
                await asyncio.sleep(FLUSH_INTERVAL)
                tick += 1
                try:
                    if tick % ticks_per_sweep == 0:
                        engine.sweep()
                    store.flush()
                except Exception:
                    logging.getLogger("assistants_conformance.reference").exception("upkeep failed")

        task = asyncio.get_running_loop().create_task(upkeep())
        try:
            yield
        finally:
            task.cancel()
            for run_task in list(engine.tasks.values()):
                run_task.cancel()
            store.close()
    return lifespan


def _bind(host: str, port: int) -> socket.socket:
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(info[4])
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # argparse exits on --help and on bad arguments
        return int(exc.code or 0)
    if args.list_faults:
        print(fault_listing(indent=""))
        return 0
    try:
        faults = parse_faults(args.fault)
    except UnknownFault as exc:
        print(f"assistants-conformance serve: {exc}", file=sys.stderr)
        return 2
    if args.max_file_bytes < 1 or args.index_delay_ms < 0 or args.vector_store_day_seconds <= 0:
        print("assistants-conformance serve: --max-file-bytes must be >= 1, --index-delay-ms >= 0 and "
              "--vector-store-day-seconds > 0", file=sys.stderr)
        return 2
    if args.run_expiry_seconds <= 0 or args.token_delay_ms < 0:
        print("assistants-conformance serve: --run-expiry-seconds must be > 0 and --token-delay-ms >= 0",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    store = Store(args.db)
    store.load()
    settings = Settings(args.run_expiry_seconds, args.token_delay_ms / 1000.0, faults, max_file_bytes=args.max_file_bytes,
                        index_delay_seconds=args.index_delay_ms / 1000.0,
                        vector_store_day_seconds=args.vector_store_day_seconds)
    engine = Engine(store, settings,
                    IdFactory(unprefixed="unprefixed-ids" in faults), Clock(float_timestamps="float-timestamps" in faults))
    engine.resolve_interrupted()
    app = API(store, engine, args.api_key, faults).application(lifespan=make_lifespan(store, engine))

    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"assistants-conformance serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        store.close()
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=3,
        # httptools/uvloop are markedly faster than h11/asyncio; fall back when they are absent.
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
    )
    notes = auth_lines(args.api_key, f"http://{host}:{port}/v1")
    _Server(config, LISTENING_LINE.format(host=host, port=port), notes).run(sockets=[sock])
    return 0
