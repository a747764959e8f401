"""Findings per check id, with capped evidence, as results.json check records.

A check the proxy judged with no finding is `pass`; one with findings is `fail`, its message the first
finding's (and how many more there were), its evidence the first MAX_KEPT findings' (the rest are
counted as dropped). Checks the traffic never exercised are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..wire.redact import redact_text
from .rules import BY_ID

MAX_KEPT = 10  # findings kept with their evidence, per check


@dataclass
class Finding:
    check_id: str
    message: str
    evidence: list[dict]
    seq: int  # the exchange it was found on


@dataclass
class Findings:
    max_kept: int = MAX_KEPT
    judged: Counter = field(default_factory=Counter)  # check id -> judgements made
    found: Counter = field(default_factory=Counter)  # check id -> findings
    kept: dict[str, list[Finding]] = field(default_factory=dict)
    dropped_evidence: int = 0

    def judge(self, check_id: str) -> None:
        self.judged[check_id] += 1

    def add(self, check_id: str, message: str, evidence: list[dict], seq: int = 0) -> None:
        self.found[check_id] += 1
        kept = self.kept.setdefault(check_id, [])
        if len(kept) < self.max_kept:
            kept.append(Finding(check_id, redact_text(message), evidence, seq))
        else:
            self.dropped_evidence += 1

    def by_level(self) -> dict[str, int]:
        out = {"MUST": 0, "SHOULD": 0, "MAY": 0}
        for check_id, n in self.found.items():
            out[BY_ID[check_id].level] += n
        return out

    def total(self) -> int:
        return sum(self.found.values())

    def records(self, catalog: dict[str, Any]) -> list[dict]:
        """One results.json record per judged check (catalog: check id -> checks.CheckInfo)."""
        out = []
        for check_id in sorted(set(self.judged) | set(self.found)):
            info = catalog.get(check_id)
            rule = BY_ID[check_id]
            kept = self.kept.get(check_id, [])
            n = self.found[check_id]
            message = ""
            if kept:
                more = f"\n(and {n - 1} more findings of this rule)" if n > 1 else ""
                message = f"[{check_id} {rule.level}] {kept[0].message}{more}"
            evidence = [item for finding in kept for item in finding.evidence]
            out.append({
                "id": check_id, "area": info.area if info else check_id.split("-")[0].lower(),
                "level": rule.level, "capability": info.capability if info else None,
                "rule": info.rule if info else rule.judged, "nodeid": "proxy", "status": "fail" if n else "pass",
                "duration": 0.0, "message": message, "reason": "", "blocked_by": None, "errors": [],
                "traceback": None, "evidence": evidence,
                "exchanges": [item for item in evidence if item.get("kind") == "exchange"],
                "cases": [{"nodeid": f"proxy:exchange-{f.seq}", "status": "fail", "duration": 0.0,
                           "message": f.message, "reason": "", "blocked_by": None} for f in kept],
                "judged": self.judged[check_id], "findings": n,
            })
        return out
