"""Stream grammar: which SSE event sequences are legal, checked event by event.

The grammar is data (specs/stream-grammar.yaml): named fragments written as regular expressions over
event names. Each stream kind compiles to a deterministic automaton (Thompson NFA, then subset
construction done once at load). Hand-written because we need a token alphabet, incremental feeding
with the set of next legal events, and an "insert once anywhere" operator; character-regex libraries
offer none of these directly.

    g = load_grammar()
    a = g.start("create_run")
    for ev in events:
        problem = a.feed(ev.event)      # None while legal; event indexes are 0-based
    problem = a.finish()                # None if the stream may end here
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

import yaml

from .. import paths
from .automata import DFA, Compiler, GrammarError, Parser, check_live, determinize  # noqa: F401 - GrammarError is raised from here too

StreamKind = Literal["create_run", "create_thread_and_run", "submit_tool_outputs"]


def _phrase(events: Iterable[str]) -> str:
    items = sorted(events)
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return "one of " + ", ".join(items[:-1]) + " or " + items[-1]


class StreamAutomaton:
    """Checks one stream as its events arrive. After a violation the automaton resynchronises (it
    assumes up to three events went missing, else skips the offending one) so that one fault yields
    one violation, not one per later event."""

    def __init__(self, grammar: "Grammar", kind: str, dfa: DFA):
        self._grammar = grammar
        self.kind = kind
        self._dfa = dfa
        self._state = dfa.start
        self.index = 0  # index of the next event (0-based, unknown events included)
        self.last_event: str | None = None  # last accepted event
        self.done_at: int | None = None
        self.violations: list[str] = []
        self.unknown_events: list[tuple[int, str]] = []

    def expected(self) -> set[str]:
        """Event names that may legally come next."""
        return set(self._dfa.moves[self._state])

    def feed(self, event_name: str | None, unknown: Literal["ignore", "reject"] = "ignore") -> str | None:
        i = self.index
        self.index += 1
        if event_name is None or event_name == "":
            return self._violation(f"event {i} has no `event:` name")
        if event_name not in self._grammar.events:
            self.unknown_events.append((i, event_name))
            if unknown == "reject":
                return self._violation(
                    f"event {i} {event_name}: not one of the {len(self._grammar.events)} documented stream events"
                )
            return None
        if self.done_at is not None:
            return self._violation(f"event {i} {event_name}: the stream already ended with done (event {self.done_at})")
        nxt = self._dfa.moves[self._state].get(event_name)
        if nxt is None:
            text = f"event {i} {event_name}: expected {self._expected_text()} {self._where()}"
            skipped = self._resync(event_name)
            if skipped:
                text += f" ({' '.join(skipped)} missing?)"
            else:
                text += " (event skipped)"
            return self._violation(text)
        self._state = nxt
        self.last_event = event_name
        if event_name == self._grammar.ends_with:
            self.done_at = i
        return None

    def _resync(self, event_name: str, max_missing: int = 3) -> list[str]:
        """After an illegal event, assume a few events went missing: if the event is legal after the
        shortest run of up to `max_missing` skipped events, continue from there and return them.
        Keeps one missing event from cascading into a violation per later event."""
        frontier = [(self._state, [])]
        seen = {self._state}
        for _ in range(max_missing):
            nxt_frontier = []
            for state, path in frontier:
                for ev, target in sorted(self._dfa.moves[state].items()):
                    if ev in (self._grammar.ends_with, self._grammar.abort_with) or target in seen:
                        continue
                    seen.add(target)
                    hop = self._dfa.moves[target].get(event_name)
                    if hop is not None:
                        self._state = hop
                        self.last_event = event_name
                        return path + [ev]
                    nxt_frontier.append((target, path + [ev]))
            frontier = nxt_frontier
        return []

    def finish(self) -> str | None:
        """Violation if the stream cannot legally end here, else None."""
        if self._state in self._dfa.accepting:
            return None
        if self.last_event is None:
            return self._violation(f"stream ended before any event: expected {self._expected_text()}")
        return self._violation(f"stream ended after {self.last_event}: expected {self._expected_text()}")

    def _where(self) -> str:
        if self.last_event is None:
            return f"at the start of a {self.kind} stream"
        return f"after {self.last_event}"

    def _expected_text(self) -> str:
        options = self.expected()
        abort = self._grammar.abort_with
        if abort and len(options) > 1:
            options.discard(abort)  # legal almost everywhere; naming it every time only adds noise
        return _phrase(options)

    def _violation(self, text: str) -> str:
        self.violations.append(text)
        return text


@dataclass
class Grammar:
    events: frozenset[str]
    ends_with: str
    abort_with: str | None
    source: str
    _dfas: dict[str, DFA] = field(repr=False, default_factory=dict)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._dfas)

    def start(self, kind: StreamKind | str) -> StreamAutomaton:
        if kind not in self._dfas:
            raise KeyError(f"unknown stream kind {kind!r}; known: {', '.join(self._dfas)}")
        return StreamAutomaton(self, kind, self._dfas[kind])

    def check(self, kind: StreamKind | str, events: Iterable[str | None], unknown: Literal["ignore", "reject"] = "ignore") -> list[str]:
        """All violations of a complete stream (including a bad ending)."""
        auto = self.start(kind)
        for ev in events:
            auto.feed(ev, unknown=unknown)
        auto.finish()
        return list(auto.violations)

    def accepts(self, kind: StreamKind | str, events: Iterable[str | None], unknown: Literal["ignore", "reject"] = "ignore") -> bool:
        return not self.check(kind, events, unknown=unknown)

    def state_count(self, kind: str) -> int:
        return len(self._dfas[kind].moves)


def _parse_fragment(name: str, value) -> object:
    where = f"fragment {name}"
    if isinstance(value, str):
        return Parser(value, where).parse()
    if isinstance(value, dict) and set(value) == {"interleave_once", "into"}:
        return ("interleave", str(value["interleave_once"]), Parser(str(value["into"]), where).parse())
    raise GrammarError(f"{where}: expected a regex string or {{interleave_once, into}}, got {value!r}")


def parse_grammar(doc: dict, source: str = "<memory>") -> Grammar:
    if not isinstance(doc, dict):
        raise GrammarError(f"{source}: expected a mapping at the top level")
    try:
        events = frozenset(doc["events"])
        frag_src = doc.get("fragments") or {}
        streams = doc["streams"]
        rules = doc["every_stream"]
        ends_with = rules["ends_with"]
    except KeyError as missing:
        raise GrammarError(f"{source}: missing key {missing}") from None
    abort_with = rules.get("abort_with")
    for ev in filter(None, (ends_with, abort_with)):
        if ev not in events:
            raise GrammarError(f"{source}: every_stream names undeclared event {ev!r}")
    fragments = {name: _parse_fragment(name, value) for name, value in frag_src.items()}
    alphabet = sorted(events)
    dfas: dict[str, DFA] = {}
    for kind, text in streams.items():
        comp = Compiler(fragments, events)
        body_s, body_e = comp.build(Parser(str(text), f"stream {kind}").parse(), f"stream {kind}")
        nfa = comp.nfa
        body_states = range(len(nfa.eps))
        before_end, accept = nfa.new(), nfa.new()
        nfa.eps[body_e].append(before_end)
        if abort_with:
            for st in body_states:  # the abort event may follow any prefix of the body
                nfa.on[st].setdefault(abort_with, []).append(before_end)
        nfa.on[before_end].setdefault(ends_with, []).append(accept)
        dfas[kind] = determinize(nfa, body_s, accept, alphabet)
        check_live(dfas[kind], kind)
    return Grammar(events, ends_with, abort_with, source, dfas)


def default_path() -> Path:
    return paths.specs_dir() / "stream-grammar.yaml"


@lru_cache(maxsize=8)
def _load(path: str) -> Grammar:
    with open(path, encoding="utf-8") as fh:
        return parse_grammar(yaml.safe_load(fh), source=path)


def load_grammar(path: str | Path | None = None) -> Grammar:
    """Load and compile the grammar (cached per path). Default: specs/stream-grammar.yaml."""
    return _load(str(Path(path) if path is not None else default_path()))
