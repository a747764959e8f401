"""Load shapes (Locust LoadTestShape): ramp, step and spike, sized by --shape-users / --shape-seconds /
--shape-steps. A locustfile may hold one shape class only, so load/locustfile.py adds `SelectedShape`
when the environment variable LOAD_SHAPE names one (the `load --shape` command sets it)."""

from __future__ import annotations

import os

from locust import LoadTestShape

from .profiles import ramp_users, spike_users, step_users


class _Shape(LoadTestShape):
    abstract = True

    def _opt(self, name, default):
        options = getattr(self.runner.environment, "parsed_options", None) if self.runner else None
        value = getattr(options, name, None) if options is not None else None
        return default if value is None else value

    @property
    def peak(self) -> int:
        return max(1, int(self._opt("shape_users", 10)))

    @property
    def duration(self) -> float:
        return float(self._opt("shape_seconds", 30.0))

    def tick(self):
        t = self.get_run_time()
        if t >= self.duration:
            return None
        users = self.users_at(t)
        return users, max(1.0, float(users) * 4)  # spawn fast enough to follow the shape

    def users_at(self, t: float) -> int:
        raise NotImplementedError


class RampShape(_Shape):
    __doc__ = ramp_users.__doc__

    def users_at(self, t):
        return ramp_users(t, self.peak, self.duration)


class StepShape(_Shape):
    __doc__ = step_users.__doc__

    def users_at(self, t):
        return step_users(t, self.peak, self.duration, int(self._opt("shape_steps", 4)))


class SpikeShape(_Shape):
    __doc__ = spike_users.__doc__

    def users_at(self, t):
        return spike_users(t, self.peak, self.duration)


SHAPES = {"ramp": RampShape, "step": StepShape, "spike": SpikeShape}


def selected_shape() -> type[LoadTestShape] | None:
    name = os.environ.get("LOAD_SHAPE", "").strip().lower()
    if not name:
        return None
    if name not in SHAPES:
        raise SystemExit(f"LOAD_SHAPE={name!r}: choose one of {', '.join(SHAPES)}")
    return type("SelectedShape", (SHAPES[name],), {"__doc__": SHAPES[name].__doc__})
