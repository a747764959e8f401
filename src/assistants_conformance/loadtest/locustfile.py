"""The Locust entry point (load/locustfile.py re-exports this): the profiles' user classes, the event
hooks, and the shape named by LOAD_SHAPE if any."""

from __future__ import annotations

from . import hooks  # noqa: F401 - registers the event listeners
from .shapes import selected_shape
from .users import ContentionUser, CrudUser, PollingUser, StreamingUser, ToolsUser  # noqa: F401

_shape = selected_shape()
if _shape is not None:
    SelectedShape = _shape
