"""The base of every load user: a LoadSession over a FastTransport for plain requests and a ConformanceClient
for streams, bounded run polling judged by the oracle (LOAD-003), and `guarded` tasks that stop quietly
after a reported failure."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable

import gevent
from locust import User, between
from locust.exception import RescheduleTask

from ..protocol.transitions import TERMINAL, check_observed
from ..wire.client import ConformanceClient
from . import checks
from .metrics import COUNT, POLLS_PER_RUN, RequestFailure, fire
from .runtime import RUNTIME
from .session import LoadSession, RequestFailed
from .transport import FastTransport

log = logging.getLogger("assistants_conformance.load")
_harness_errors_logged: set[str] = set()


def guarded(fn: Callable) -> Callable:
    """A task that stops quietly after a reported failure; an unexpected harness error is counted as a
    failure too, with its traceback logged once per error type (not once per occurrence)."""

    def wrapper(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except RequestFailed:
            gevent.sleep(self.failure_pause)  # a dead target must not turn the task into a busy loop
            raise RescheduleTask() from None
        except (RescheduleTask, gevent.GreenletExit):
            raise
        except Exception as exc:  # noqa: BLE001 - counted and named; see docstring
            key = f"{type(exc).__name__} in {fn.__name__}"
            if key not in _harness_errors_logged:
                _harness_errors_logged.add(key)
                log.exception("harness error (logged once): %s", key)
            fire(self.environment, RUNTIME.recorder, "HARNESS", fn.__name__, 0,
                 exception=RequestFailure(f"{type(exc).__name__}: {exc}"))
            gevent.sleep(self.failure_pause)
            raise RescheduleTask() from None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


class HarnessUser(User):
    """Base: a LoadSession with a FastTransport (geventhttpclient) for plain requests and a
    ConformanceClient (sync httpx; cooperative under gevent) for streams, built on the first stream."""

    abstract = True
    wait_time = between(0.0, 0.05)
    failure_pause = 0.2
    check_streams = True

    def on_start(self) -> None:
        options = getattr(self.environment, "parsed_options", None)
        self.config = RUNTIME.config(self.host or self.environment.host, getattr(options, "conformance_profile", None))
        connections = self.connections()
        transport = FastTransport(self.config, concurrency=connections)
        # ConformanceClient's pool holds 2 x max_concurrency connections.
        streams = dataclasses.replace(self.config, profile=dataclasses.replace(
            self.config.profile, max_concurrency=max(1, connections // 2)))
        self.api = LoadSession(self.environment, lambda: ConformanceClient(streams), RUNTIME.recorder,
                               check_streams=self.check_streams, transport=transport)
        self._assistant: str | None = None

    def on_stop(self) -> None:
        api = getattr(self, "api", None)
        if api is not None:
            api.close()

    def connections(self) -> int:
        """Keep-alive connections for plain requests, and for streams (opened as needed)."""
        return 2 * self.config.profile.max_concurrency

    @property
    def model(self) -> str:
        return self.config.profile.model

    def assistant(self, **fields) -> str:
        """The user's assistant, created on first use (once per user, not per task)."""
        if self._assistant is None:
            body = {"model": self.model, "name": "load", **fields}
            self._assistant = self.api.call("POST", "/assistants", "/assistants", json=body).json["id"]
        return self._assistant

    def poll(self, thread_id: str, run_id: str, *, until=TERMINAL, first: dict | None = None,
             intended: float | None = None) -> tuple[dict, list[str]]:
        """GET the run with backoff (25 ms, x1.5, at most 500 ms) until its status is in `until`, within
        the profile's run_poll_timeout. Statuses seen go through the oracle (LOAD-003)."""
        statuses = [first["status"]] if first else []
        delay, deadline = 0.025, time.monotonic() + self.config.profile.run_poll_timeout
        run = first or {}
        while run.get("status") not in until:
            if time.monotonic() > deadline:
                fire(self.environment, RUNTIME.recorder, "GET", "/threads/{id}/runs/{id} (poll)", 0,
                     exception=RequestFailure(f"run not {'/'.join(sorted(until))} within "
                                              f"{self.config.profile.run_poll_timeout:g} s; last {run.get('status')}"))
                raise RequestFailed("poll timeout")
            gevent.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            run = self.api.call("GET", f"/threads/{thread_id}/runs/{run_id}", "/threads/{id}/runs/{id}").json
            statuses.append(run.get("status"))
        checks.judge(self.environment, RUNTIME.recorder, checks.RUN_STATUS_SEQUENCE,
                     [f"run {run_id}: {problem}" for problem in check_observed(statuses)])
        fire(self.environment, RUNTIME.recorder, COUNT, POLLS_PER_RUN, len(statuses) - (1 if first else 0))
        return run, statuses
