"""Locust users for benchmarks/bench_load.py: the same GET on the reference server, by a bare
FastHttpUser and by the harness's user class (ConformanceClient + LoadSession, events and raw samples)."""

from locust import FastHttpUser, constant, task

from assistants_conformance.loadtest import hooks  # noqa: F401 - the harness's listeners, as in real runs
from assistants_conformance.loadtest.users import HarnessUser, guarded


class BareFastHttpUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self):
        self.client.get("/health")


class HarnessHealthUser(HarnessUser):
    wait_time = constant(0)

    @task
    @guarded
    def health(self):
        # Absolute URL: /health sits beside the API base (/v1), not under it.
        self.api.call("GET", self.config.base_url.rsplit("/v1", 1)[0] + "/health", "/health")
