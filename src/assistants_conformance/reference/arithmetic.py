"""The arithmetic the reference model finds in a message (README "The reference model", code_interpreter).

``find_math`` tokenizes and parses the first linear equation in one one-letter variable, else the first
expression with an operator, into our own tree of exact Fractions; ``display`` renders a tree as Python source
(tool_model.program_for writes programs from it, never from the message's text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

# ---- arithmetic: tokens, parser, linear forms ------------------------------------------------------------------

Node = Union[tuple]   # ("num", Fraction, text) | ("var", name) | ("neg", node) | ("bin", op, left, right)

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<var>[A-Za-z])|(?P<op>\*\*|[-+*/^%()=×÷−]))")
_OPS = {"×": "*", "÷": "/", "−": "-", "^": "**"}
_CANDIDATE = re.compile(r"(?:\d+(?:\.\d+)?|(?<![A-Za-z])[A-Za-z](?![A-Za-z])|\*\*|[-+*/^%()=×÷−]|[ \t])+")
MAX_NUMBER_DIGITS = 30


@dataclass(frozen=True)
class Token:
    kind: str      # num | var | op
    text: str
    glued: bool    # no whitespace before it


@dataclass(frozen=True)
class Math:
    kind: str                  # "equation" | "expression"
    left: tuple
    right: tuple | None        # equations only
    variable: str | None       # equations only
    solution: Fraction | None  # equations only: what the program should find (used by tests and the answer check)


def _tokens(text: str) -> list[Token] | None:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            return None
        kind = match.lastgroup
        value = match.group(kind)
        out.append(Token(kind, _OPS.get(value, value), match.start(kind) == pos))
        pos = match.end()
    return out


class _Parser:
    """expr := term (+|- term)*; term := unary ((*|/|%|implicit) unary)*; unary := (-|+) unary | power;
    power := atom (** unary)?; atom := number | variable | ( expr ). Implicit multiplication only without a space
    ("3x", "2(x + 1)")."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise ValueError("unexpected end" if token is None else f"unexpected {token.text}")
        self.pos += 1
        return token

    def expr(self) -> tuple:
        node = self.term()
        while (t := self.peek()) is not None and t.text in "+-" and t.kind == "op":
            self.take()
            node = ("bin", t.text, node, self.term())
        return node

    def term(self) -> tuple:
        node = self.unary()
        while (t := self.peek()) is not None:
            if t.kind == "op" and t.text in ("*", "/", "%"):
                self.take()
                node = ("bin", t.text, node, self.unary())
            elif t.glued and (t.kind == "var" or t.text == "("):
                node = ("bin", "*", node, self.unary())
            else:
                break
        return node

    def unary(self) -> tuple:
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in "+-":
            self.take()
            inner = self.unary()
            return ("neg", inner) if t.text == "-" else inner
        return self.power()

    def power(self) -> tuple:
        node = self.atom()
        t = self.peek()
        if t is not None and t.text == "**":
            self.take()
            node = ("bin", "**", node, self.unary())
        return node

    def atom(self) -> tuple:
        t = self.take()
        if t.kind == "num":
            if len(t.text) > MAX_NUMBER_DIGITS or re.match(r"0\d", t.text):
                raise ValueError("number too long or with a leading zero (dates, codes)")
            return ("num", Fraction(t.text), t.text)
        if t.kind == "var":
            return ("var", t.text)
        if t.text == "(":
            node = self.expr()
            self.take(")")
            return node
        raise ValueError(f"unexpected {t.text}")


def _parse(tokens: list[Token]) -> tuple:
    parser = _Parser(tokens)
    node = parser.expr()
    if parser.peek() is not None:
        raise ValueError("trailing tokens")
    return node


def _variables(node: tuple) -> set[str]:
    if node[0] == "var":
        return {node[1]}
    if node[0] == "neg":
        return _variables(node[1])
    if node[0] == "bin":
        return _variables(node[2]) | _variables(node[3])
    return set()


def _has_operator(node: tuple) -> bool:
    return node[0] == "bin" or (node[0] == "neg" and node[1][0] != "num")


def linear_form(node: tuple) -> tuple[Fraction, Fraction] | None:
    """(a, b) with node = a*v + b for its one variable v, or None when it is not linear (or divides by 0)."""
    kind = node[0]
    if kind == "num":
        return Fraction(0), node[1]
    if kind == "var":
        return Fraction(1), Fraction(0)
    if kind == "neg":
        inner = linear_form(node[1])
        return None if inner is None else (-inner[0], -inner[1])
    op, left, right = node[1], linear_form(node[2]), linear_form(node[3])
    if left is None or right is None:
        return None
    (a, b), (c, d) = left, right
    if op == "+":
        return a + c, b + d
    if op == "-":
        return a - c, b - d
    if op == "*" and (a == 0 or c == 0):
        return a * d + c * b, b * d
    if op == "/" and c == 0 and d != 0:
        return a / d, b / d
    if op == "**" and a == 0 and c == 0 and d.denominator == 1 and abs(d) <= 64 and (b != 0 or d >= 0):
        return Fraction(0), b ** int(d)
    return None


def _math_in(tokens: list[Token]) -> Math | None:
    equals = [i for i, t in enumerate(tokens) if t.text == "="]
    if len(equals) == 1:
        i = equals[0]
        try:
            left, right = _parse(tokens[:i]), _parse(tokens[i + 1:])
        except ValueError:
            return None
        names = _variables(left) | _variables(right)
        if len(names) != 1:
            return None
        lf, rf = linear_form(left), linear_form(right)
        if lf is None or rf is None or lf[0] == rf[0]:
            return None
        return Math("equation", left, right, names.pop(), (rf[1] - lf[1]) / (lf[0] - rf[0]))
    if equals:
        return None
    try:
        node = _parse(tokens)
    except ValueError:
        return None
    if _variables(node) or not _has_operator(node):
        return None
    return Math("expression", node, None, None, None)


def find_math(text: str) -> Math | None:
    """The first linear equation in one variable, else the first arithmetic expression, in the message.
    A candidate is a run of numbers, operators, parentheses and one-letter words; leading tokens that do not
    parse (e.g. "a" in "is a 3 + 4") are dropped one at a time."""
    found: list[Math] = []
    for match in _CANDIDATE.finditer(text):
        tokens = _tokens(match.group().rstrip("."))
        if not tokens:
            continue
        for start in range(len(tokens)):
            math = _math_in(tokens[start:])
            if math is not None:
                found.append(math)
                break
    return next((m for m in found if m.kind == "equation"), found[0] if found else None)


# ---- rendering the tree as Python ------------------------------------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "neg": 3, "**": 4}


def display(node: tuple, parent: int = 0, exact: bool = False) -> str:
    """Python source for a tree: ``exact`` wraps numbers as F(...) (fractions.Fraction) so that division is exact."""
    kind = node[0]
    if kind == "num":
        if not exact:
            return node[2].lstrip("0") or "0" if "." not in node[2] else node[2]
        value = node[1]
        return f"F({value.numerator})" if value.denominator == 1 else f"F({value.numerator}, {value.denominator})"
    if kind == "var":
        return node[1]
    if kind == "neg":
        text = "-" + display(node[1], _PRECEDENCE["neg"], exact)
        return f"({text})" if parent > _PRECEDENCE["neg"] else text
    op = node[1]
    level = _PRECEDENCE[op]
    # ** is right-associative: its left side needs brackets at the same level, the others' right side does.
    left = display(node[2], level + (1 if op == "**" else 0), exact)
    right = display(node[3], level + (0 if op == "**" else 1), exact)
    text = f"{left} {op} {right}"
    return f"({text})" if parent > level else text


def shown_math(math: Math) -> str:
    """How the answer writes the parsed problem (normalised: "3*x + 11 = 14")."""
    text = display(math.left)
    return f"{text} = {display(math.right)}" if math.kind == "equation" else text
