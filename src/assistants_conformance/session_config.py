"""The target configuration of one pytest session, resolved once from its options and the environment.

Below both the plugin and the reports (results.json records the target and profile), so neither has
to import the other.
"""

from __future__ import annotations

import os

import pytest

from .wire.config import ConfigError, TargetConfig, resolve_config
from .options import target_settings

_CACHE = pytest.StashKey[TargetConfig]()


def cli_options(config: pytest.Config) -> dict:
    """The target options given on the command line (None: not given)."""
    return target_settings(config.getoption)


def resolved_config(config: pytest.Config) -> TargetConfig:
    """Target configuration from options > environment > profile > defaults (computed once per session);
    a bad value is a pytest usage error of one line."""
    cached = config.stash.get(_CACHE, None)
    if cached is not None:
        return cached
    try:
        resolved = resolve_config(cli_options(config), os.environ)
    except ConfigError as exc:
        raise pytest.UsageError(f"assistants-conformance: {exc}") from None
    config.stash[_CACHE] = resolved
    return resolved
