"""Named, deliberate departures from the documented behaviour.

The harness proves that each of its checks can fail by running it against this server with a fault
switched on. Faults are fixed when the process starts (``--fault NAME``); no request can toggle them.
"""

from __future__ import annotations

import os
import random

FAULTS: dict[str, str] = {
    "no-thread-lock": "messages and runs are accepted on a thread that has an active run",
    "lock-race": "lock check and run insert are not atomic (a 50 ms await between them)",
    "lock-kept-after-cancel": "a thread stays locked after its run is cancelled",
    "stream-reorder": "thread.run.in_progress is sent before thread.run.queued",
    "stream-no-done": "streams end without the done event",
    "stream-drop-delta": "one text delta is skipped on the wire (the stored message keeps the full text)",
    "stream-json-content-type": "streams are served with Content-Type application/json",
    "stream-no-thread-created": "create-thread-and-run streams omit thread.created",
    "ignore-expiry": "runs never expire",
    "expired-accepts-submit": "submit_tool_outputs on an expired run is answered 200",
    "no-metadata-limits": "metadata pair count and key/value lengths are not checked",
    "unknown-fields-accepted": "unknown body fields are silently accepted",
    "detail-errors": 'errors are answered as {"detail": "..."} instead of the error envelope',
    "bad-json-500": "malformed JSON bodies are answered 500",
    "unprefixed-ids": "ids are bare uuid4 hex strings without OpenAI's prefixes",
    "float-timestamps": "timestamps are floats instead of integer Unix seconds",
    "has-more-wrong": "list pages always say has_more: false",
    "ignore-order": "the order parameter is ignored (always ascending)",
    "ignore-before": "the before cursor is ignored",
    "ignore-cancel": "cancel answers 200 with the run as is and the run carries on to completion",
    "no-auth": "API keys are not enforced",
    "cross-key-visible": "objects made with one API key are visible to another",
    "wrong-object": 'run objects say "run" instead of "thread.run"',
    "terminal-run-mutates": "completed runs flip to expired when their original expiry time passes",
    "no-incomplete": "max_completion_tokens is ignored: long replies complete",
    "step-wrong-message": "message_creation steps point at a different message id",
    "tool-call-id-mismatch": "tool_calls step ids differ from the required_action ids",
    "no-usage": "usage is null on terminal runs",
    "limit-unbounded": "list limit 0 and above 100 are accepted",
    "order-unchecked": "any list order value is accepted (anything but asc is treated as desc)",
    "no-length-limits": "assistant name/description/instructions maxLength is not enforced",
    "no-tool-count-limits": "assistants with more than 128 tools and runs with more than 20 tools are accepted",
    "no-range-limits": "temperature/top_p outside their ranges and max_prompt_tokens/max_completion_tokens "
                       "below 256 are accepted",
    "lock-kept-after-expiry": "a thread stays locked after its run expires",
    "started-before-created": "started_at is 5 seconds before created_at",
    "completed-at-missing": "completed runs have completed_at null",
    "expires-at-missing": "expires_at is null on queued, in_progress and requires_action runs (they still expire)",
    "tool-arguments-object": "required_action function.arguments is a JSON object instead of a JSON string",
    "submit-keeps-waiting": "submit_tool_outputs answers 200 but the run stays in requires_action on the same calls",
    "error-on-success": "completed runs carry a last_error",
    "global-lock": "an active run locks every thread of the same API key, not only its own",
    "lock-kept-after-completion": "a thread stays locked after its run completes",
    "not-found-as-400": "unknown ids are answered 400 (in the error envelope) instead of 404",
    "delete-not-deleted": 'delete answers say "deleted": false (the object is deleted all the same)',
    "flaky-delete-not-deleted": 'each delete answer says "deleted": false at random, half the time (the object is '
                                "deleted all the same): a server whose verdicts change from run to run",
    "named-tool-choice-ignored": "a tool_choice naming a function is ignored: the run answers in text and completes "
                                 "instead of calling the function",
    "files-content-mismatch": "/files/{id}/content returns the bytes with the last byte changed",
    "files-list-ignores-purpose": "the purpose filter on GET /files is ignored",
    "vector-store-counts-stale": "vector store file_counts keep counting indexed files as in_progress "
                                 "(the status still becomes completed)",
    "vector-store-never-completes": "vector store status stays in_progress forever (its files do complete)",
    "batch-cancel-ignored": "cancelling a file batch answers 200 but its files still complete and it ends completed",
    "unreadable-file-completes": "a file that is not text is indexed as completed (with no chunks) instead of failed",
    "vector-store-files-filter-ignored": "the filter parameter of GET /vector_stores/{id}/files is ignored",
    "vector-store-modify-ignored": "modifying a vector store answers 200 with the store unchanged",
    "vector-store-expires-at-wrong": "vector store expires_at is one hour later than last_active_at + days "
                                     "(the store still expires on time)",
    "batch-counts-stale": "a file batch's file_counts stay as they were at its creation (its status still moves on)",
    "deleted-file-stays-in-store": "deleting a file leaves it listed in its vector stores",
    "attachments-no-thread-store": "message attachments with file_search do not create or fill the thread's "
                                   "vector store",
    "no-tool-resources-limits": "code_interpreter.file_ids above 20 and file_search.vector_store_ids above 1 "
                                "are accepted",
    "file-size-unlimited": "uploads past the size limit (--max-file-bytes) are accepted",
    "expired-store-runs": "runs using an expired vector store proceed as if it were active",
    "citation-range-off": "file_citation/file_path annotations' end_index is one past their marker",
    "file-search-no-results-content": "include[] for file_search result contents is ignored (no content)",
    "code-call-no-input": "code_interpreter tool calls are stored with an empty input (the program still runs)",
    "code-step-no-logs": "code_interpreter tool calls have outputs [] even when the program printed",
    "file-search-step-missing": "answers cite files without a file_search tool_calls step",
    "generated-file-missing": "file_path annotations name a file id that does not exist",
    "azure-api-version-ignored": "/openai routes accept a missing or unknown api-version (served as 2024-08-01-preview)",
    "azure-api-key-ignored": "/openai routes ignore the api-key header (only Authorization: Bearer authenticates)",
    "azure-requires-beta-header": "/openai routes answer 400 unless OpenAI-Beta: assistants=v2 is sent",
    "v1-header-ignored": "OpenAI-Beta: assistants=v1 is ignored: v2 shapes, file_ids rejected as unknown fields",
    "v1-no-assistant-files": "/assistants/{id}/files and /threads/{t}/messages/{m}/files answer 404 under v1",
    "v1-retrieval-rejected": "the retrieval tool is rejected (400) under v1",
}


# The coin of the flaky faults: seeded by ASSISTANTS_CONFORMANCE_FAULT_SEED when set, so that a test can
# replay one sequence of answers; else from the system's entropy.
_coin = random.Random(os.environ.get("ASSISTANTS_CONFORMANCE_FAULT_SEED"))


def says_deleted(faults: frozenset[str]) -> bool:
    """What a delete answer's `deleted` field says (the object is deleted either way)."""
    if "delete-not-deleted" in faults:
        return False
    return not ("flaky-delete-not-deleted" in faults and _coin.random() < 0.5)


class UnknownFault(ValueError):
    pass


def parse_faults(names: list[str] | None) -> frozenset[str]:
    """Validate fault names given on the command line; unknown names raise UnknownFault."""
    chosen = frozenset(names or ())
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise UnknownFault(f"unknown fault(s): {', '.join(unknown)}\nknown faults:\n{fault_listing()}")
    return chosen


def fault_listing(indent: str = "  ") -> str:
    """Every fault on a line of its own: `name: what it breaks`."""
    return "\n".join(f"{indent}{name}: {text}" for name, text in FAULTS.items())
