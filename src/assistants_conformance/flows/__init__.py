"""Drivers the suites share: they drive the target through the protocol only (tool_choice naming a
function, max_completion_tokens, cancel, plain prompts), so they work against any server with a real
model. Judgements live in protocol/; these only drive and collect.

    prompts   the function a run is made to call, and prompts any model honours
    factory   Factory: tagged creation and exact cleanup; shared_factory for wider fixtures
    polls     bounded polling of runs, vector stores and other objects
    holds     runs held in requires_action (LIFE-018's rule), runs made for their ids
    expect    expect_error: the documented error answer, or the check fails
    streams   stream_checked: a stream read with the grammar fed event by event
    walks     walk_list: cursor walks through list pages
    examples  hypothesis settings for checks whose examples are real requests
"""

from .examples import http_examples
from .expect import expect_error
from .factory import TAG_KEY, CleanupWarning, Created, Factory, shared_factory, succeeded, warn_cleanup
from .holds import HeldRun, held_run_problem, hold_run, run_for_ids
from .polls import INDEXING_DONE, SLOW_WAIT_SECONDS, Poll, poll_object, poll_run, poll_vector_store
from .prompts import HOLD_PROMPT, LOOKUP_FUNCTION, named_tool_choice
from .streams import CheckedStream, stream_checked
from .walks import ListPage, ListWalk, walk_list

__all__ = [
    "CheckedStream", "CleanupWarning", "Created", "Factory", "HOLD_PROMPT", "HeldRun", "INDEXING_DONE",
    "LOOKUP_FUNCTION", "ListPage", "ListWalk", "Poll", "SLOW_WAIT_SECONDS", "TAG_KEY", "expect_error",
    "held_run_problem", "hold_run", "http_examples", "named_tool_choice", "poll_object", "poll_run",
    "poll_vector_store", "run_for_ids", "shared_factory", "stream_checked", "succeeded", "walk_list",
    "warn_cleanup",
]
