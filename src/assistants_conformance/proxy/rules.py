"""The proxy's rules, each judged under the check id of the suites' check with the same rule.

Levels are the suites' (tests/test_proxy_units.py compares them with the check catalog); rule texts,
areas and capabilities are read from the catalog when the report is written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProxyRule:
    check_id: str
    level: str
    judged: str  # what the proxy judges, one line (docs/architecture.md has the table)


RULES: tuple[ProxyRule, ...] = (
    ProxyRule("FUZZ-001", "MUST", "no answer has a 5xx status"),
    ProxyRule("ERR-014", "MUST", "every 4xx/5xx answer with a body is in the error envelope"),
    ProxyRule("FUZZ-002", "MUST", "a 2xx answer has a documented status and, where the contract gives one, "
                                  "a body of its schema (operations without an object check of their own)"),
    ProxyRule("OBJ-001", "MUST", "2xx answers of assistant operations match the contract"),
    ProxyRule("OBJ-002", "MUST", "2xx answers of thread operations match the contract"),
    ProxyRule("OBJ-003", "MUST", "2xx answers of message operations match the contract"),
    ProxyRule("OBJ-004", "MUST", "2xx answers of run operations match the contract"),
    ProxyRule("OBJ-005", "MUST", "2xx answers of run step operations match the contract"),
    ProxyRule("VSTORE-004", "MUST", "2xx answers of vector store operations match the contract"),
    ProxyRule("STREAM-001", "MUST", "a 200 answer to stream: true is text/event-stream"),
    ProxyRule("STREAM-002", "MUST", "each event's data matches the contract's schema for its name"),
    ProxyRule("STREAM-003", "MUST", "a stream ends with done carrying [DONE] (a body the target closed "
                                    "before done is a finding; a client that hung up is not)"),
    ProxyRule("STREAM-004", "MUST", "a create-run stream follows the stream grammar, event by event"),
    ProxyRule("STREAM-005", "MUST", "a create-thread-and-run stream follows the stream grammar"),
    ProxyRule("STREAM-010", "MUST", "a submit_tool_outputs stream follows the stream grammar"),
    ProxyRule("STREAM-008", "MUST", "a stream that pauses in requires_action follows the grammar to it and done"),
    ProxyRule("TOOL-013", "MUST", "a stream with a file_search step: grammar, event schemas, ending and "
                                  "cross-event rules"),
    ProxyRule("TOOL-024", "MUST", "a stream with a code_interpreter step: grammar, event schemas, ending and "
                                  "cross-event rules"),
    ProxyRule("STREAM-006", "MUST", "text deltas add up to the completed message, streamed and read back later"),
    ProxyRule("STREAM-007", "MUST", "ids and statuses agree across a stream's events and with later reads of "
                                    "its messages and steps"),
    ProxyRule("STREAM-009", "MUST", "required_action names the tool calls the step deltas streamed"),
    ProxyRule("LIFE-001", "MUST", "each run's observed statuses (polls, streams, lists, cancels) follow the "
                                  "transition relation"),
    ProxyRule("LIFE-012", "MUST", "a run seen terminal never changes again"),
    ProxyRule("LOCK-001", "MUST", "no message is accepted on a thread while a run there is active (history "
                                  "checker)"),
    ProxyRule("LOCK-002", "MUST", "no run is accepted on a thread while another run there is active"),
    ProxyRule("LOCK-006", "MUST", "of overlapping create-run requests on a thread at most one run is active"),
)

BY_ID: dict[str, ProxyRule] = {rule.check_id: rule for rule in RULES}

# Contract validation of 2xx answers: the object check owning the operation's path (first match wins).
OBJECT_CHECKS: tuple[tuple[str, str], ...] = (
    ("/threads/{thread_id}/runs/{run_id}/steps", "OBJ-005"),
    ("/threads/{thread_id}/runs", "OBJ-004"),
    ("/threads/runs", "OBJ-004"),
    ("/threads/{thread_id}/messages", "OBJ-003"),
    ("/threads", "OBJ-002"),
    ("/assistants", "OBJ-001"),
    ("/vector_stores", "VSTORE-004"),
)

GRAMMAR_CHECKS = {"create_run": "STREAM-004", "create_thread_and_run": "STREAM-005",
                  "submit_tool_outputs": "STREAM-010"}
HOSTED_STREAM_CHECKS = {"file_search": "TOOL-013", "code_interpreter": "TOOL-024"}  # every stream rule, there
STREAM_LEVEL_CHECKS = frozenset({"STREAM-002", "STREAM-003", "STREAM-004", "STREAM-005", "STREAM-006", "STREAM-007",
                                 "STREAM-008", "STREAM-009", "STREAM-010"})
TOOL_STREAM_CHECK = "STREAM-008"  # the grammar of a create(-thread-and)-run stream that paused for tool outputs

# protocol.stream_rules.RULES name -> check id
STREAM_RULE_CHECKS = {
    "deltas_add_up_to_message": "STREAM-006",
    "tool_calls_match_required_action": "STREAM-009",
    "done_is_literal": "STREAM-003",
}
STREAM_RULE_DEFAULT = "STREAM-007"


def object_check(path_template: str) -> str:
    for prefix, check_id in OBJECT_CHECKS:
        if path_template.startswith(prefix):
            return check_id
    return "FUZZ-002"
