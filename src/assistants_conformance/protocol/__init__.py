"""The protocol oracle: the harness's own reading of the Assistants v2 rules.

Derived from the documents only (lifecycle guide, API reference prose and examples, the SDK's
streaming helper); it never imports the reference server, so each can catch the other's misreadings.

    transitions   run / run-step / message status relations and observed-sequence checks
    grammar       legal SSE event sequences (data in specs/stream-grammar.yaml)
    stream_rules  cross-event consistency of a stream's payloads (ids, text, tool calls)
    locking       thread-lock rules
    history       concurrent per-thread history checker (valid / invalid / unknown)
"""
