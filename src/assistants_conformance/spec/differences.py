"""A difference between two contracts, and the allow-list that makes intended ones explicit.

Allow-list (specs/drift-allowlist.yaml): a list of `{where: <pattern over "location: aspect">, reason}`; in a
pattern only `*` is special (any text), so `[]` and `<...>` in locations need no escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Difference:
    location: str   # e.g. "RunObject.instructions" or "op:createRun.param.query.limit"
    aspect: str     # e.g. "type", "maxItems", "required", "property", "operation"
    ours: Any
    theirs: Any

    @property
    def key(self) -> str:
        return f"{self.location}: {self.aspect}"

    def __str__(self) -> str:
        return f"{self.key}  (ours: {_fmt(self.ours)}; theirs: {_fmt(self.theirs)})"


def _fmt(value: Any) -> str:
    return "absent" if value is None else repr(value)


@dataclass
class AllowEntry:
    where: str
    reason: str
    used: bool = field(default=False, compare=False)


def load_allowlist(path: Path) -> list[AllowEntry]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = entries.get("differences", []) if isinstance(entries, dict) else entries
    result = []
    for item in items:
        if not isinstance(item, dict) or not item.get("where") or not item.get("reason"):
            raise ValueError(f"{path}: every entry needs `where` and a one-line `reason`: {item!r}")
        if "\n" in str(item["reason"]).strip():
            raise ValueError(f"{path}: reason must be one line: {item['where']}")
        result.append(AllowEntry(str(item["where"]), str(item["reason"]).strip()))
    return result


def _pattern(where: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in where.split("*")))


def apply_allowlist(differences: list[Difference], allow: list[AllowEntry]) -> tuple[list[Difference], list[AllowEntry]]:
    """(differences no entry allows, entries that allowed nothing)."""
    unlisted = []
    for difference in differences:
        matched = False
        for entry in allow:
            if _pattern(entry.where).fullmatch(difference.key):
                entry.used = matched = True
        if not matched:
            unlisted.append(difference)
    return unlisted, [entry for entry in allow if not entry.used]
