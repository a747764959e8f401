"""Open-loop load: runs start on a fixed schedule (constant or Poisson arrivals) whatever the server
does, and every latency is measured from the intended start. A closed loop (each user waits for its
last answer) slows down with the server and hides stalls (coordinated omission); this does not.

Each dispatcher user owns rate/N of the arrivals (N = --open-loop-users, the number of users) and starts
each one in its own greenlet, at most --max-in-flight at once; an arrival that finds no free slot is
counted as a failure ("dropped"), never delayed silently.
"""

from __future__ import annotations

import random
import time

import gevent
from gevent.pool import Pool
from locust import constant, task

from .metrics import RequestFailure, fire
from .runtime import RUNTIME
from .session import RequestFailed
from .users import PROFILES, HarnessUser

# What one arrival does, per profile: (user class, method taking intended=...).
ARRIVALS = {"polling": "thread_and_run_polled", "streaming": "thread_and_run_streamed", "tools": "tools_streamed"}


class OpenLoopUser(HarnessUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        profile = getattr(options, "open_loop_profile", "streaming")
        if profile not in ARRIVALS:
            raise SystemExit(f"--open-loop-profile {profile!r}: choose one of {', '.join(ARRIVALS)}")
        self.worker = PROFILES[profile][0](self.environment)  # borrows its flow, runs on our session
        self.worker.config, self.worker.api = self.config, self.api
        self.worker._assistant = None
        users = max(1, int(getattr(options, "open_loop_users", 1) or 1))
        self.rate = float(getattr(options, "arrival_rate", 0.0) or 0.0) / users
        self.poisson = getattr(options, "arrival", "constant") == "poisson"
        self.pool = Pool(max(1, int(getattr(options, "max_in_flight", 200))))
        if self.rate <= 0:
            raise SystemExit("open loop needs --arrival-rate > 0")
        self.action_fn = ARRIVALS[profile]

    @task
    def dispatch(self) -> None:
        """Runs for the whole test: wake at each intended start, launch the arrival there."""
        next_at = time.monotonic()
        while True:
            next_at += random.expovariate(self.rate) if self.poisson else 1.0 / self.rate
            gevent.sleep(max(0.0, next_at - time.monotonic()))
            if self.pool.full():
                fire(self.environment, RUNTIME.recorder, "ARRIVAL", "dropped (max in flight)", 0,
                     exception=RequestFailure(f"{self.pool.size} arrivals already in flight"))
                continue
            self.pool.spawn(self._one, next_at)

    def _one(self, intended: float) -> None:
        try:
            # guarded() inside turns failures into RescheduleTask; here that just ends this arrival.
            getattr(type(self.worker), self.action_fn)(self.worker, intended=intended)
        except (RequestFailed, Exception):  # noqa: BLE001 - already reported by the guarded flow
            pass

    def connections(self) -> int:
        # Arrivals overlap on this one session: up to max-in-flight requests at once.
        return max(1, int(getattr(self.environment.parsed_options, "max_in_flight", 200)))

    def on_stop(self) -> None:
        self.pool.kill(block=True, timeout=2)
        super().on_stop()
