"""Hypothesis settings for checks whose examples are real requests."""

from __future__ import annotations

def http_examples(count: int):
    """Hypothesis settings for checks whose examples are real requests: at most `count` drawn examples
    (plus explicit @example ones), no shrinking (the first failing example is the evidence), no deadline,
    no example database written into the user's directory, function-scoped fixtures allowed."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=count, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
