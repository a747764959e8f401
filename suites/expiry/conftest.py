"""One run left in requires_action until it expires, shared by the expiry checks of this folder.

Expiry waits are as long as the target's expiry window (profile.expiry_window_seconds: 8 s for the
embedded reference server, ten minutes on OpenAI). Checks here are marked slow at collection when the
window is over 60 s, so they run only with --run-slow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit  # exchange URLs may carry a query (Azure api-version)

import pytest

from assistants_conformance.checks import ConformanceFailure, violation
from assistants_conformance.wire.client import TargetError
from assistants_conformance.flows import SLOW_WAIT_SECONDS, hold_run, shared_factory
from assistants_conformance.session_config import resolved_config

HERE = Path(__file__).resolve().parent


def tolerance(window: float) -> float:
    """How far from expires_at the expiry may be observed: clock rounding, polling, server sweeps."""
    return max(2.0, 0.1 * window)


@pytest.hookimpl(tryfirst=True)  # before the plugin's hook, which skips slow checks without --run-slow
def pytest_collection_modifyitems(config, items):
    window = resolved_config(config).profile.expiry_window_seconds
    if window <= SLOW_WAIT_SECONDS:
        return
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)


@dataclass
class Sighting:
    run: dict
    exchange: Any
    sent: float  # local wall clock when the request was sent
    received: float  # ... and when the answer arrived

    @property
    def status(self) -> str | None:
        return self.run.get("status")


@dataclass
class ExpiryTrace:
    window: float
    tolerance: float
    held: Any = None  # flows.HeldRun
    sightings: list[Sighting] = field(default_factory=list)
    expires_local: float | None = None  # local wall clock at which the run's expires_at falls
    failure: BaseException | None = None
    exchanges: list = field(default_factory=list)

    def ok(self) -> "ExpiryTrace":
        if self.failure is not None:
            raise self.failure
        return self

    @property
    def final(self) -> Sighting:
        return self.sightings[-1]

    def require_expired(self) -> "ExpiryTrace":
        """For checks that start from an expired run: fail (naming why) if there is none."""
        self.ok()
        if self.final.status != "expired":
            violation(f"precondition: the run left in requires_action did not expire (last status "
                      f"{self.final.status!r}), so this check cannot be made", [self.final.exchange])
        return self

    def run_path(self) -> str:
        return f"/threads/{self.held.thread_id}/runs/{self.held.run['id']}"


def wait_for_expiry(factory, trace: ExpiryTrace, timeout: float) -> None:
    held = hold_run(factory, timeout=timeout)
    trace.held = held
    created, expires = held.run.get("created_at"), held.run.get("expires_at")
    if not isinstance(expires, (int, float)) or not isinstance(created, (int, float)):
        violation(f"the run in requires_action has created_at {created!r}, expires_at {expires!r}",
                  [trace.exchanges[-1]])
    if expires - created > trace.window + trace.tolerance:
        violation(f"expires_at is {expires - created:g} s after created_at; the profile's expiry window is "
                  f"{trace.window:g} s (+{trace.tolerance:g} s tolerance)", [trace.exchanges[-1]])
    # Server clock ~ local clock + offset, from the creation exchange: created_at is the server's clock
    # rounded down (+0.5 s on average) somewhere inside the exchange (its middle, on average).
    create_exchange = next(e for e in trace.exchanges if e.method == "POST" and urlsplit(e.url).path.endswith("/runs"))
    offset = created + 0.5 - (create_exchange.started + create_exchange.elapsed / 2)
    trace.expires_local = expires - offset
    deadline = trace.expires_local + trace.tolerance + 1.0
    path = trace.run_path()
    while True:
        sent = time.time()
        response = factory.client.get(path)
        received = time.time()
        if response.status_code != 200 or not isinstance(response.json, dict):
            violation(f"reading the run answered {response.status_code}", [response.exchange])
        trace.sightings.append(Sighting(response.json, response.exchange, sent, received))
        if response.json.get("status") != "requires_action" or received > deadline:
            return
        # Sparse polls early (an early expiry is still seen), dense ones around expires_at.
        remaining = trace.expires_local - received
        time.sleep(min(5.0, max(0.1, remaining / 4 if remaining > 0 else 0.25), max(0.0, deadline - received)))


@pytest.fixture(scope="module")
def expired_trace(target):
    """A run held in requires_action and polled, unanswered, until it leaves requires_action or the
    expiry window (plus tolerance) is over."""
    window = target.profile.expiry_window_seconds
    trace = ExpiryTrace(window=window, tolerance=tolerance(window))
    with shared_factory(target, recorder=trace.exchanges) as factory:
        try:
            wait_for_expiry(factory, trace, target.profile.run_poll_timeout)
        except (ConformanceFailure, TargetError) as exc:
            trace.failure = exc
        yield trace
