"""The harness's own error types, at the bottom of the import order (every module may raise them)."""

from __future__ import annotations


class ConfigError(Exception):
    """A bad option, environment variable or profile; the message is one line naming the culprit."""


class ProfileError(ConfigError):
    """A profile file that cannot be read or has a bad field."""


class ContractError(Exception):
    """The document cannot be loaded, or asks for something it does not declare."""
