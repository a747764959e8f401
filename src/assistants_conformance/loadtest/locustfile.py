"""The Locust entry point (load/locustfile.py re-exports this): the profiles' user classes, the event
(Locust loads this file by path, not as part of the package: absolute imports only.)
hooks, and the shape named by LOAD_SHAPE if any."""

from __future__ import annotations

from assistants_conformance.loadtest import hooks  # noqa: F401 - registers the event listeners
from assistants_conformance.loadtest.shapes import selected_shape
from assistants_conformance.loadtest.users import (  # noqa: F401
    ContentionUser, CrudUser, FilesUser, PollingUser, StreamingUser, ToolsUser)

_shape = selected_shape()
if _shape is not None:
    SelectedShape = _shape
