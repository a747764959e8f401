"""Contract overlays: a dialect's differences from our contract, as a list of small edits with reasons.

specs/overlays/NAME.yaml:

    description: one paragraph
    changes:
      - why: the reason, in our words (every change has one)
        remove: [paths, /files]                       # a node, given as a list of keys (no escaping)
      - why: ...
        set: [components, schemas, RetrievalTool]     # replace (or create) a node
        value: {...}
      - why: ...
        merge: [components, schemas, AssistantObject] # JSON merge patch (RFC 7386): null deletes a key,
        value: {properties: {tool_resources: null}}   # mappings merge, everything else replaces
      - why: ...
        add_parameter: {name: api-version, in: query, required: true, schema: {...}}  # to every operation

`${name}` inside any string value is replaced from the variables (the Azure api-version). After the
edits, links to operations that no longer exist are dropped, so the document stays consistent.

The result is written once per content (hash in the file name) to a private temp folder and loaded from
there like any contract, so every consumer (validation, schemathesis fuzzing) reads the same document.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import paths
from ..errors import ContractError
from .normalise import parse_document

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class OverlayError(ContractError):
    """An overlay that cannot be read or applied; the message names the file and the change."""


def overlays_dir() -> Path:
    return paths.specs_dir() / "overlays"


def overlay_path(ref: str) -> Path:
    path = Path(ref)
    if path.is_file():
        return path
    candidate = overlays_dir() / f"{ref.removesuffix('.yaml')}.yaml"
    if candidate.is_file():
        return candidate
    raise OverlayError(f"no overlay {ref!r} (in {overlays_dir()})")


def load_overlay(ref: str) -> dict:
    path = overlay_path(ref)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverlayError(f"overlay {path.name}: cannot read: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise OverlayError(f"overlay {path.name}: needs a 'changes' list")
    return data


def _substitute(value: Any, variables: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        def one(match: re.Match) -> str:
            if match.group(1) not in variables:
                raise OverlayError(f"{where}: no value for ${{{match.group(1)}}}")
            return str(variables[match.group(1)])
        return _VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [_substitute(v, variables, where) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables, where) for k, v in value.items()}
    return value


def _parent(document: dict, keys: list, where: str, *, create: bool) -> tuple[Any, Any]:
    if not isinstance(keys, list) or not keys:
        raise OverlayError(f"{where}: the location must be a non-empty list of keys")
    node: Any = document
    for key in keys[:-1]:
        if isinstance(node, dict) and key not in node and create:
            node[key] = {}
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise OverlayError(f"{where}: {keys} does not exist in the contract (at {key!r})") from None
    return node, keys[-1]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (a dozen lines; no library needed for this)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_overlay(document: dict, overlay: Mapping, variables: Mapping[str, str], name: str = "overlay") -> dict:
    """A new document: `document` with the overlay's changes applied (the input is not modified)."""
    doc = copy.deepcopy(document)
    for index, change in enumerate(overlay["changes"]):
        where = f"overlay {name}, change {index + 1}"
        if not isinstance(change, dict) or not str(change.get("why", "")).strip():
            raise OverlayError(f"{where}: every change needs a 'why'")
        change = _substitute(change, variables, where)
        kinds = [k for k in ("remove", "set", "merge", "add_parameter") if k in change]
        if len(kinds) != 1:
            raise OverlayError(f"{where}: give exactly one of remove, set, merge, add_parameter")
        kind = kinds[0]
        if kind == "add_parameter":
            for item in doc.get("paths", {}).values():
                for method in HTTP_METHODS:
                    if isinstance(item.get(method), dict):
                        item[method].setdefault("parameters", []).append(copy.deepcopy(change["add_parameter"]))
            continue
        parent, key = _parent(doc, change[kind], where, create=kind == "set")
        if kind == "remove":
            if key not in parent:
                raise OverlayError(f"{where}: {change[kind]} does not exist in the contract")
            del parent[key]
        elif "value" not in change:
            raise OverlayError(f"{where}: {kind} needs a 'value'")
        elif kind == "set":
            parent[key] = copy.deepcopy(change["value"])
        else:
            if key not in parent:
                raise OverlayError(f"{where}: {change[kind]} does not exist in the contract")
            parent[key] = merge_patch(parent[key], change["value"])
    _drop_dangling_links(doc)
    return doc


def _drop_dangling_links(doc: dict) -> None:
    operation_ids = {op.get("operationId") for item in doc.get("paths", {}).values()
                     for m, op in item.items() if m in HTTP_METHODS and isinstance(op, dict)}
    for item in doc.get("paths", {}).values():
        for method in HTTP_METHODS:
            for response in ((item.get(method) or {}).get("responses") or {}).values():
                links = response.get("links") if isinstance(response, dict) else None
                if isinstance(links, dict):
                    for link_name in [n for n, link in links.items()
                                      if isinstance(link, dict) and "operationId" in link
                                      and link["operationId"] not in operation_ids]:
                        del links[link_name]


def overlaid_document_path(base: Path, overlays: Sequence[str], variables: Mapping[str, str]) -> Path:
    """The file holding `base` with `overlays` applied (written once per content)."""
    try:
        document = parse_document(base.read_bytes())
    except OSError as exc:
        raise OverlayError(f"cannot read contract {base}: {exc}") from exc
    for ref in overlays:
        document = apply_overlay(document, load_overlay(ref), variables, name=ref)
    document.setdefault("info", {})["x-overlays"] = list(overlays)
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"assistants-conformance-contracts-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / f"{base.stem}+{'+'.join(Path(o).stem for o in overlays)}-{digest}.json"
    if not target.exists():  # same content, same name: concurrent writers (xdist workers) agree
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    return target
