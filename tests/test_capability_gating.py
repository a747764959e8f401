"""A target that does not declare function tools (Myla, a gateway without submit_tool_outputs) is still
judged by the core checks, and the checks that need a run paused by a function tool are unsupported
there, never failed (false failures found on Myla, tests/implementations)."""

from __future__ import annotations

from pathlib import Path

import yaml

from assistants_conformance.wire.config import profiles_dir

from fault_matrix import run_suites

JUDGED = ("LIFE-001", "LIFE-002", "LIFE-011", "LIFE-013", "LIFE-015", "ERR-001", "ERR-002", "AUTH-010", "AUTH-012")
UNSUPPORTED = ("LIFE-009", "LIFE-014", "LOCK-005")


def test_checks_without_function_tools(tmp_path: Path):
    profile = yaml.safe_load((profiles_dir() / "reference.yaml").read_text(encoding="utf-8"))
    profile["name"] = "reference-without-function-tools"
    profile["capabilities"] = [c for c in profile["capabilities"] if c != "function_tools"]
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile), encoding="utf-8")
    args = ["--profile", str(path), "-n", "2"]
    for check in JUDGED + UNSUPPORTED:
        args += ["--check", check]
    status, messages, output = run_suites(*args)
    wrong = {c: status.get(c) for c in JUDGED if status.get(c) != "pass"}
    wrong.update({c: status.get(c) for c in UNSUPPORTED if status.get(c) != "unsupported"})
    assert not wrong, f"{wrong}\n" + "\n".join(f"{c}: {messages.get(c, '')[:500]}" for c in wrong) + output[-1500:]
    assert "function_tools" in messages["LOCK-005"]
