"""Locust users for benchmarks/bench_load.py: the same GET (BENCH_PATH, with BENCH_HEADERS) on the
reference server, by a bare FastHttpUser and by the harness's user class (LoadSession.call: the
harness's request path, its status/JSON checks, Locust events and raw samples)."""

import json
import os

from locust import FastHttpUser, constant, task

from assistants_conformance.loadtest import hooks  # noqa: F401 - the harness's listeners, as in real runs
from assistants_conformance.loadtest.users import HarnessUser, guarded

PATH = os.environ.get("BENCH_PATH", "/health")
HEADERS = json.loads(os.environ.get("BENCH_HEADERS", "{}"))


class BareFastHttpUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get(PATH, headers=HEADERS)


class HarnessGetUser(HarnessUser):
    wait_time = constant(0)

    @task
    @guarded
    def get(self):
        # Absolute URL: the same URL as the bare user (/health sits beside the API base, not under it).
        self.api.call("GET", self.config.base_url.rsplit("/v1", 1)[0] + PATH, PATH)
