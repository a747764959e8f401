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

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

import yaml

from .. import paths

StreamKind = Literal["create_run", "create_thread_and_run", "submit_tool_outputs"]


class GrammarError(ValueError):
    """The grammar file itself is wrong; the message names the fragment and the problem."""


# ---------------------------------------------------------------------------------------------
# Parsing: regex text -> small AST of tuples
#   ("sym", event) ("ref", fragment) ("cat", [..]) ("alt", [..]) ("star"|"plus"|"opt", node)
#   ("interleave", event, node)

_LEXEME = re.compile(r"\s*(?:(<[A-Za-z_][A-Za-z0-9_]*>)|([A-Za-z_][A-Za-z0-9_.]*)|([()|*+?]))")


def _tokenize(text: str, where: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _LEXEME.match(text, pos)
        if not m:
            raise GrammarError(f"{where}: cannot read {text[pos:pos + 20]!r} at character {pos}")
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, where: str):
        self.toks = _tokenize(text, where)
        self.i = 0
        self.where = where

    def parse(self):
        node = self._alt()
        if self.i != len(self.toks):
            raise GrammarError(f"{self.where}: unexpected {self.toks[self.i]!r}")
        return node

    def _peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _alt(self):
        branches = [self._cat()]
        while self._peek() == "|":
            self.i += 1
            branches.append(self._cat())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def _cat(self):
        items = []
        while self._peek() not in (None, "|", ")"):
            items.append(self._postfix())
        if not items:
            raise GrammarError(f"{self.where}: empty alternative")
        return items[0] if len(items) == 1 else ("cat", items)

    def _postfix(self):
        node = self._atom()
        while self._peek() in ("*", "+", "?"):
            node = ({"*": "star", "+": "plus", "?": "opt"}[self.toks[self.i]], node)
            self.i += 1
        return node

    def _atom(self):
        tok = self._peek()
        if tok is None or tok in "|)*+?":
            raise GrammarError(f"{self.where}: expected an event, <fragment> or '(' but found {tok!r}")
        self.i += 1
        if tok == "(":
            node = self._alt()
            if self._peek() != ")":
                raise GrammarError(f"{self.where}: missing ')'")
            self.i += 1
            return node
        if tok.startswith("<"):
            return ("ref", tok[1:-1])
        return ("sym", tok)


# ---------------------------------------------------------------------------------------------
# Thompson NFA


class _NFA:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.on: list[dict[str, list[int]]] = []

    def new(self) -> int:
        self.eps.append([])
        self.on.append({})
        return len(self.eps) - 1

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        todo = list(seen)
        while todo:
            for t in self.eps[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return frozenset(seen)


class _Compiler:
    def __init__(self, fragments: dict[str, object], events: frozenset[str]):
        self.fragments = fragments
        self.events = events
        self.nfa = _NFA()
        self.active: list[str] = []  # fragments being expanded, to report recursion

    def build(self, node, where: str) -> tuple[int, int]:
        """Add `node` to the NFA; returns (start, end). Deterministic: the same node twice gives
        two copies with identical layout (used by the interleave operator)."""
        nfa = self.nfa
        kind = node[0]
        if kind == "sym":
            if node[1] not in self.events:
                raise GrammarError(f"{where}: {node[1]!r} is not a declared event")
            s, e = nfa.new(), nfa.new()
            nfa.on[s].setdefault(node[1], []).append(e)
            return s, e
        if kind == "ref":
            name = node[1]
            if name not in self.fragments:
                raise GrammarError(f"{where}: unknown fragment <{name}>")
            if name in self.active:
                raise GrammarError(f"fragment <{name}> refers to itself: {' -> '.join(self.active + [name])}")
            self.active.append(name)
            try:
                return self.build(self.fragments[name], f"fragment {name}")
            finally:
                self.active.pop()
        if kind == "cat":
            first_s, prev_e = self.build(node[1][0], where)
            for item in node[1][1:]:
                s, e = self.build(item, where)
                nfa.eps[prev_e].append(s)
                prev_e = e
            return first_s, prev_e
        if kind == "alt":
            s, e = nfa.new(), nfa.new()
            for branch in node[1]:
                bs, be = self.build(branch, where)
                nfa.eps[s].append(bs)
                nfa.eps[be].append(e)
            return s, e
        if kind in ("star", "plus", "opt"):
            s, e = nfa.new(), nfa.new()
            is_, ie = self.build(node[1], where)
            nfa.eps[s].append(is_)
            nfa.eps[ie].append(e)
            if kind != "plus":
                nfa.eps[s].append(e)
            if kind != "opt":
                nfa.eps[ie].append(is_)
            return s, e
        if kind == "interleave":
            event, inner = node[1], node[2]
            if event not in self.events:
                raise GrammarError(f"{where}: interleave_once {event!r} is not a declared event")
            lo = len(nfa.eps)
            s1, e1 = self.build(inner, where)  # copy 1: before the inserted event
            mid = len(nfa.eps)
            s2, e2 = self.build(inner, where)  # copy 2: after it
            if len(nfa.eps) - mid != mid - lo:
                raise AssertionError("interleave copies differ in layout")
            for st in range(lo, mid):  # from any point of copy 1, the event jumps to the same point of copy 2
                nfa.on[st].setdefault(event, []).append(st + (mid - lo))
            return s1, e2
        raise AssertionError(f"unknown node {kind}")


# ---------------------------------------------------------------------------------------------
# Deterministic automaton per stream kind


@dataclass(frozen=True)
class _DFA:
    start: int
    moves: tuple[dict[str, int], ...]  # state -> event -> state
    accepting: frozenset[int]


def _determinize(nfa: _NFA, start: int, accept: int, alphabet: list[str]) -> _DFA:
    first = nfa.closure([start])
    ids = {first: 0}
    sets = [first]
    moves: list[dict[str, int]] = []
    i = 0
    while i < len(sets):
        current = sets[i]
        row: dict[str, int] = {}
        for ev in alphabet:
            targets = [t for st in current for t in nfa.on[st].get(ev, ())]
            if not targets:
                continue
            nxt = nfa.closure(targets)
            if nxt not in ids:
                ids[nxt] = len(sets)
                sets.append(nxt)
            row[ev] = ids[nxt]
        moves.append(row)
        i += 1
    accepting = frozenset(n for n, s in enumerate(sets) if accept in s)
    return _DFA(0, tuple(moves), accepting)


def _check_live(dfa: _DFA, kind: str) -> None:
    """Every state must still be able to end legally; otherwise the grammar has a dead end."""
    live = set(dfa.accepting)
    changed = True
    while changed:
        changed = False
        for st, row in enumerate(dfa.moves):
            if st not in live and any(t in live for t in row.values()):
                live.add(st)
                changed = True
    if len(live) != len(dfa.moves):
        raise GrammarError(f"stream {kind}: the grammar has states from which no legal ending exists")


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

    def __init__(self, grammar: "Grammar", kind: str, dfa: _DFA):
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
    _dfas: dict[str, _DFA] = field(repr=False, default_factory=dict)

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
        return _Parser(value, where).parse()
    if isinstance(value, dict) and set(value) == {"interleave_once", "into"}:
        return ("interleave", str(value["interleave_once"]), _Parser(str(value["into"]), where).parse())
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
    dfas: dict[str, _DFA] = {}
    for kind, text in streams.items():
        comp = _Compiler(fragments, events)
        body_s, body_e = comp.build(_Parser(str(text), f"stream {kind}").parse(), f"stream {kind}")
        nfa = comp.nfa
        body_states = range(len(nfa.eps))
        before_end, accept = nfa.new(), nfa.new()
        nfa.eps[body_e].append(before_end)
        if abort_with:
            for st in body_states:  # the abort event may follow any prefix of the body
                nfa.on[st].setdefault(abort_with, []).append(before_end)
        nfa.on[before_end].setdefault(ends_with, []).append(accept)
        dfas[kind] = _determinize(nfa, body_s, accept, alphabet)
        _check_live(dfas[kind], kind)
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
