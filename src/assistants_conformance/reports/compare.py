"""Side by side: several results.json (implementations, or runs of one) as one matrix."""

from __future__ import annotations

from pathlib import Path

from .formats import ICONS, target_label
from .results import load_results


def column_label(document: dict, path: Path) -> str:
    profile = (document.get("profile") or {}).get("name")
    base = target_label(document)
    return f"{base} [{profile}]" if profile else base


def compare_matrix(paths: list[str | Path], labels: list[str] | None = None) -> dict:
    """{columns: [{label, path, counts}], rows: [{id, area, level, rule, statuses: [..|None], differs}]}"""
    documents = [load_results(p) for p in paths]
    columns = []
    for index, (path, document) in enumerate(zip(paths, documents)):
        label = labels[index] if labels and index < len(labels) else column_label(document, Path(path))
        columns.append({"label": label, "path": str(path), "counts": document["counts"],
                        "started": document.get("started", "")})
    # Same label twice (two runs of one target): number them so that columns stay distinguishable.
    seen: dict[str, int] = {}
    for column in columns:
        seen[column["label"]] = seen.get(column["label"], 0) + 1
    for index, column in enumerate(columns):
        if seen[column["label"]] > 1:
            column["label"] = f"{column['label']} #{index + 1}"
    by_id: dict[str, dict] = {}
    for index, document in enumerate(documents):
        for check in document["checks"]:
            row = by_id.setdefault(check["id"], {"id": check["id"], "area": check["area"], "level": check["level"],
                                                 "rule": check["rule"], "statuses": [None] * len(documents)})
            row["statuses"][index] = check["status"]
    rows = [by_id[k] for k in sorted(by_id)]
    for row in rows:
        row["differs"] = len(set(row["statuses"])) > 1
    return {"columns": columns, "rows": rows}


def compare_markdown(matrix: dict) -> str:
    columns = matrix["columns"]
    lines = ["# Assistants API conformance: comparison", ""]
    lines += [f"{i + 1}. {c['label']} — `{c['path']}`" for i, c in enumerate(columns)] + [""]
    lines += ["| Check | Level | " + " | ".join(f"({i + 1})" for i in range(len(columns))) + " |",
              "|---|---|" + "---|" * len(columns)]
    lines.append("| **pass / ran** | | " + " | ".join(
        f"**{c['counts'].get('pass', 0)}/{c['counts'].get('pass', 0) + c['counts'].get('fail', 0) + c['counts'].get('error', 0)}**"
        for c in columns) + " |")
    for row in matrix["rows"]:
        cells = [f"{ICONS[s]} {s}" if s else "— absent" for s in row["statuses"]]
        check = f"**{row['id']}**" if row["differs"] else row["id"]
        lines.append(f"| {check} | {row['level']} | " + " | ".join(cells) + " |")
    lines += ["", "Checks in bold differ between the columns."]
    return "\n".join(lines) + "\n"

