"""Names of the profiles and shapes, and the shapes' arithmetic: no Locust import here (importing
locust monkey-patches the process with gevent, which the CLI and pytest must not get)."""

from __future__ import annotations

PROFILES: dict[str, list[str]] = {
    "polling": ["PollingUser"], "streaming": ["StreamingUser"], "tools": ["ToolsUser"],
    "contention": ["ContentionUser"], "crud": ["CrudUser"], "files": ["FilesUser"],
    "mixed": ["PollingUser", "StreamingUser", "ToolsUser", "ContentionUser", "CrudUser", "FilesUser"],
}
# What a user class needs of the target (profile capabilities); `mixed` leaves out what the target lacks.
NEEDS: dict[str, tuple[str, ...]] = {"FilesUser": ("files", "vector_stores", "file_search")}


def classes_for(profile: str, capabilities) -> tuple[list[str], list[str]]:
    """The profile's user classes the target can serve, and (for mixed) the ones left out."""
    classes = PROFILES[profile]
    if profile != "mixed":
        return list(classes), []
    kept = [c for c in classes if all(need in capabilities for need in NEEDS.get(c, ()))]
    return kept, [c for c in classes if c not in kept]
OPEN_LOOP_PROFILES = ("polling", "streaming", "tools")


def ramp_users(t: float, peak: int, duration: float) -> int:
    """0 -> peak linearly over the first half, then hold."""
    return max(1, round(peak * min(1.0, t / (duration / 2))))


def step_users(t: float, peak: int, duration: float, steps: int) -> int:
    """peak/steps more users at each of `steps` equal intervals."""
    steps = max(1, steps)
    return max(1, round(peak * min(steps, int(t // (duration / steps)) + 1) / steps))


def spike_users(t: float, peak: int, duration: float) -> int:
    """a tenth of peak, the full peak during the middle fifth, then back."""
    return peak if 0.4 * duration <= t < 0.6 * duration else max(1, peak // 10)


SHAPES = ("ramp", "step", "spike")
