"""The machinery under the stream grammar: event-name regular expressions parsed to a small AST, compiled
to a Thompson NFA and determinised once at load (subset construction), with the "insert once anywhere"
operator. Hand-written because we need a token alphabet, incremental feeding with the set of next legal
events and that operator; character-regex libraries offer none of these directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable


class GrammarError(ValueError):
    """The grammar file itself is wrong; the message names the fragment and the problem."""


# ---------------------------------------------------------------------------------------------
# Parsing: regex text -> small AST of tuples
#   ("sym", event) ("ref", fragment) ("cat", [..]) ("alt", [..]) ("star"|"plus"|"opt", node)
#   ("interleave", event, node)

_LEXEME = re.compile(r"\s*(?:(<[A-Za-z_][A-Za-z0-9_]*>)|([A-Za-z_][A-Za-z0-9_.]*)|([()|*+?]))")


def tokenize(text: str, where: str) -> list[str]:
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


class Parser:
    def __init__(self, text: str, where: str):
        self.toks = tokenize(text, where)
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


class Compiler:
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
class DFA:
    start: int
    moves: tuple[dict[str, int], ...]  # state -> event -> state
    accepting: frozenset[int]


def determinize(nfa: _NFA, start: int, accept: int, alphabet: list[str]) -> DFA:
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
    return DFA(0, tuple(moves), accepting)


def check_live(dfa: DFA, kind: str) -> None:
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
