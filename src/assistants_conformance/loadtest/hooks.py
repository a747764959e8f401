"""Locust event listeners: command-line options, warm-up, raw timings from workers to the master,
the contended threads' lock check when a process stops, and the report + exit code at the end."""

from __future__ import annotations

import logging
import time

import gevent
from locust import events
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING, MasterRunner, WorkerRunner

from .metrics import CHECK, METRIC, TIME_TO_FIRST_EVENT
from .report import NOT_REQUESTS, PROGRESS_PREFIX, write_report
from .runtime import RUNTIME

log = logging.getLogger("assistants_conformance.load")
RAW_KEY = "assistants_conformance"  # our key in the worker -> master stats report
FINISH, FINAL = "ac_finish", "ac_final"  # custom messages: master asks, worker answers with its raw data
FINAL_TIMEOUT = 15.0


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("assistants-conformance")
    group.add_argument("--report-dir", default="load-report", help="where the exact percentiles, raw timings and plot go")
    group.add_argument("--warmup", type=float, default=0.0, help="seconds at the start left out of the figures")
    group.add_argument("--conformance-profile", default=None, help="target profile (specs/profiles), e.g. reference")
    group.add_argument("--shape-users", type=int, default=10, help="peak users of the ramp/step/spike shape")
    group.add_argument("--shape-seconds", type=float, default=30.0, help="duration of the shape")
    group.add_argument("--shape-steps", type=int, default=4, help="steps of the step shape")
    group.add_argument("--arrival-rate", type=float, default=0.0, help="open loop: runs started per second in all")
    group.add_argument("--arrival", choices=("constant", "poisson"), default="constant", help="open loop arrivals")
    group.add_argument("--open-loop-profile", default="streaming", help="open loop: what each arrival does")
    group.add_argument("--open-loop-users", type=int, default=1, help="open loop: dispatcher users (= -u)")
    group.add_argument("--max-in-flight", type=int, default=200, help="open loop: per dispatcher")
    group.add_argument("--progress-seconds", type=float, default=0.0,
                       help="print a progress line this often (0: never; `assistants-conformance load` shows them)")


@events.init.add_listener
def _init(environment, **_kw) -> None:
    RUNTIME.reset()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # Raw timings ride along with every stats report (and the final one when the worker quits).
        @events.report_to_master.add_listener
        def _send(client_id, data, **_):
            data[RAW_KEY] = RUNTIME.recorder.drain()
        def _finish(environment, msg, **_):
            # The master is stopping: stop our users now, so that test_stop checks complete histories,
            # then hand over everything recorded (Locust's own final report comes too late to wait for).
            environment.runner.stop()
            environment.runner.send_message(FINAL, RUNTIME.recorder.drain())

        runner.register_message(FINISH, _finish)
    if isinstance(runner, MasterRunner):
        def source(client_id):
            return f"worker-{runner.get_worker_index(client_id)}"

        @events.worker_report.add_listener
        def _receive(client_id, data, **_):
            if RAW_KEY in data:
                RUNTIME.recorder.merge(data[RAW_KEY], source=source(client_id))

        def _final(environment, msg, **_):
            RUNTIME.recorder.merge(msg.data, source=source(msg.node_id))
            _finished.add(msg.node_id)

        runner.register_message(FINAL, _final)


_finished: set[str] = set()


@events.test_stopping.add_listener
def _collect_from_workers(environment, **_kw) -> None:
    """Master: ask every worker for its final raw timings and checks, and wait (bounded) for them."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner) or not runner.clients.all:
        return
    _finished.clear()
    expected = {client.id for client in runner.clients.all}
    runner.send_message(FINISH)
    deadline = time.monotonic() + FINAL_TIMEOUT
    while not expected <= _finished and time.monotonic() < deadline:
        gevent.sleep(0.05)
    missing = expected - _finished
    if missing:
        log.error("no final report from %d worker(s) within %g s; their last timings are missing",
                  len(missing), FINAL_TIMEOUT)


@events.test_start.add_listener
def _test_start(environment, **_kw) -> None:
    if RUNTIME.started is None:
        RUNTIME.started = time.time()
    warmup = _option(environment, "warmup", 0.0)
    if warmup > 0 and not isinstance(environment.runner, WorkerRunner):
        # Locust's own tables restart after the warm-up; our exact figures filter by time instead.
        gevent.spawn_later(warmup, environment.stats.reset_all)
    every = _option(environment, "progress_seconds", 0.0)
    if every > 0 and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_show_progress, environment, every)


def _show_progress(environment, every: float) -> None:
    """Every `every` seconds until the run stops: users, request rate since the last line, requests and
    failures, violations and the time to first event (p50/p99 so far). From Locust's aggregated stats, so
    with workers their requests count too (they report every 3 s)."""
    started = last_at = time.monotonic()
    last_count = 0
    while environment.runner is not None and environment.runner.state not in (STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED):
        gevent.sleep(every)
        entries = environment.stats.entries
        http = [e for (name, method), e in entries.items() if method not in NOT_REQUESTS]
        count, now = sum(e.num_requests for e in http), time.monotonic()
        rate, last_count, last_at = (count - last_count) / max(now - last_at, 1e-9), count, now
        violations = sum(e.num_failures for (name, method), e in entries.items() if method == CHECK)
        first = entries.get((TIME_TO_FIRST_EVENT, METRIC))
        latency = (f"time to first event p50 {first.get_response_time_percentile(0.5):g} ms, "
                   f"p99 {first.get_response_time_percentile(0.99):g} ms" if first and first.num_requests
                   else "time to first event - (no stream yet)")
        print(f"{PROGRESS_PREFIX}{now - started:4.0f} s  {environment.runner.user_count} users, {rate:.1f} req/s, "
              f"{count} requests, {sum(e.num_failures for e in http)} failed, {violations} violations, {latency}",
              flush=True)


@events.test_stop.add_listener
def _test_stop(environment, **_kw) -> None:
    # Every process checks the threads its own contention users shared (their histories are complete here).
    RUNTIME.stopped = time.time()
    if RUNTIME.histories.ops and not isinstance(environment.runner, MasterRunner):
        verdicts = RUNTIME.histories.check(environment, RUNTIME.recorder)
        undecided = sum(v == "unknown" for v in verdicts.values())
        if undecided:
            log.warning("lock check undecided for %d of %d threads (too many overlapping operations)",
                        undecided, len(verdicts))


@events.quitting.add_listener
def _quitting(environment, **_kw) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    folder = _option(environment, "report_dir", "load-report")
    failures = [{"method": e.method, "name": e.name, "error": e.error, "occurrences": e.occurrences}
                for e in environment.stats.errors.values()]
    counts = RUNTIME.recorder.violation_counts
    settings = {k: v for k, v in vars(environment.parsed_options or {}).items()
                if k in ("host", "num_users", "spawn_rate", "run_time", "warmup", "conformance_profile",
                         "arrival_rate", "arrival", "open_loop_profile", "tags")}
    try:
        write_report(folder, RUNTIME.recorder, started=RUNTIME.started or time.time(),
                     warmup=_option(environment, "warmup", 0.0), settings=settings, failures=failures,
                     stopped=RUNTIME.stopped)
        log.info("load report written to %s", folder)
    except OSError as exc:
        log.error("could not write the load report to %s: %s", folder, exc)
    if counts:
        ids = ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))
        log.error("conformance violations under load: %s", ids)
        environment.process_exit_code = 1


def _option(environment, name, default):
    options = getattr(environment, "parsed_options", None)
    value = getattr(options, name, None) if options is not None else None
    return default if value is None else value
