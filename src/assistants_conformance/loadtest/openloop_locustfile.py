"""Locust entry point for open-loop runs (load/openloop.py re-exports this)."""

from __future__ import annotations

from assistants_conformance.loadtest import hooks  # noqa: F401 - registers the event listeners
from assistants_conformance.loadtest.openloop import OpenLoopUser  # noqa: F401
