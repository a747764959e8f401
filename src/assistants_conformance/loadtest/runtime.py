"""What the users of one Locust process share: the recorder, the contended threads' histories, the
target configuration (from --host and the usual environment variables)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from ..wire.config import TargetConfig, resolve_config
from .checks import ThreadHistories
from .metrics import Recorder


@dataclass
class Runtime:
    recorder: Recorder = field(default_factory=Recorder)
    histories: ThreadHistories = field(default_factory=ThreadHistories)
    started: float | None = None       # wall clock of test start (master/local)
    stopped: float | None = None       # wall clock of test stop
    _configs: dict = field(default_factory=dict)

    def config(self, host: str | None, profile: str | None = None) -> TargetConfig:
        """The target for --host (API base URL, like the SDK's base_url); key from OPENAI_API_KEY."""
        key = (host, profile)
        if key not in self._configs:
            if not host:
                raise ValueError("no target: pass --host URL (the API base, e.g. http://127.0.0.1:8000/v1)")
            config = resolve_config({"target_url": host, "profile": profile}, os.environ)
            # One connection per user is enough; the pool must not be the bottleneck of a load test.
            profile_obj = dataclasses.replace(config.profile, max_concurrency=4)
            self._configs[key] = dataclasses.replace(config, profile=profile_obj)
        return self._configs[key]

    def reset(self) -> None:
        self.recorder = Recorder()
        self.histories = ThreadHistories()
        self.started = self.stopped = None


RUNTIME = Runtime()
