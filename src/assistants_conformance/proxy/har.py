"""Recording the proxy's exchanges as HAR 1.2 (`--record FILE`) and reading a HAR file back for `judge`.

The writer appends one entry per finished exchange (redacted, bodies up to exchange.MAX_BODY) and closes
the document when the proxy stops; a file cut short by a crash is still read (its complete entries).
Entries carry `_conformance` {seq, started, ended (epoch seconds), error, client_gone} so a replay has
the exact windows; a HAR from elsewhere is judged from startedDateTime and time alone.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import IO, Iterator
from urllib.parse import urlsplit

from ..wire.redact import redact_headers, redact_text
from ..reports.formats import har_entry
from .exchange import MAX_BODY, Observed
from .judge import Judge

CREATOR = {"name": "assistants-conformance proxy", "version": "1"}


class HarRecorder:
    def __init__(self, path: str | Path, *, base_path: str = "/v1", dialect: str = "openai"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[str] | None = self.path.open("w", encoding="utf-8")
        meta = json.dumps({"base_path": base_path, "dialect": dialect})  # what `judge` needs to route the URLs
        self._out.write('{"log": {"version": "1.2", "creator": ' + json.dumps(CREATOR) + ', "_conformance": '
                        + meta + ', "entries": [\n')
        self.entries = 0

    def add(self, ex: Observed) -> None:
        if self._out is None:
            return
        entry = har_entry(ex.evidence(body_limit=MAX_BODY))
        compressed = ex.response_headers.get("content-encoding", "identity").lower() not in ("identity", "")
        if compressed:  # the bytes as they passed, so a replay decodes them as the judge did live
            entry["response"]["content"].update(text=base64.b64encode(bytes(ex.body)).decode(), encoding="base64")
        entry["_conformance"] = {"seq": ex.seq, "started": ex.started, "ended": ex.ended, "error": ex.error,
                                 "client_gone": ex.client_gone, "body_bytes": ex.body_bytes}
        self._out.write(("" if not self.entries else ",\n") + json.dumps(entry, ensure_ascii=False))
        self.entries += 1

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.write("\n]}}\n")
            self._out.close()
            self._out = None


def read_har(path: str | Path) -> list[dict]:
    """The entries of a HAR file; one a crash left unterminated gives its complete entries."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)["log"]["entries"]
    except ValueError:
        decoder = json.JSONDecoder()
        start = text.find("[", text.find('"entries"'))
        entries, pos = [], start + 1
        while True:
            while pos < len(text) and text[pos] in " \n\r\t,":
                pos += 1
            try:
                entry, pos = decoder.raw_decode(text, pos)
            except ValueError:
                return entries
            entries.append(entry)


def recording_settings(path: str | Path) -> dict:
    """The proxy's settings recorded at the head of its HAR ({base_path, dialect}); {} for other HAR files."""
    with Path(path).open(encoding="utf-8") as f:
        head = f.read(4096)
    start = head.find('"_conformance": ')
    if start < 0:
        return {}
    try:
        value, _ = json.JSONDecoder().raw_decode(head, start + len('"_conformance": '))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def observed(entry: dict, seq: int) -> Observed:
    request, response = entry["request"], entry.get("response") or {}
    extra = entry.get("_conformance") or {}
    started = extra.get("started") or _epoch(entry["startedDateTime"])
    ended = extra.get("ended") or started + (entry.get("time") or 0) / 1000 + 0.001
    url = request["url"]
    post = (request.get("postData") or {}).get("text")
    ex = Observed(extra.get("seq") or seq, request["method"].upper(), url, urlsplit(url).path,
                  redact_headers(_headers(request)), redact_text(post).encode() if post else b"", started)
    status = response.get("status")
    ex.status = status or None
    ex.response_headers = {k.lower(): v for k, v in _headers(response).items()}
    ex.headers_at, ex.ended = started, ended
    ex.error, ex.client_gone = extra.get("error"), bool(extra.get("client_gone"))
    content = response.get("content") or {}
    text = content.get("text") or ""
    ex.keep(base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8"))
    if extra.get("body_bytes"):
        ex.body_bytes = max(ex.body_bytes, int(extra["body_bytes"]))
    return ex


def judge_entries(judge: Judge, entries: list[dict]) -> Iterator[Observed]:
    """Replay entries through the judge in the order they ended (what live judging saw)."""
    exchanges = [observed(entry, i + 1) for i, entry in enumerate(entries)]
    exchanges.sort(key=lambda x: (x.ended or x.started, x.seq))
    for ex in exchanges:
        judge.begin(ex)
        if ex.judging is not None and ex.judging.stream is not None:
            judge.chunk(ex, bytes(ex.body), ex.ended or ex.started)
        judge.end(ex)
        ex.settle()
        yield ex


def _headers(message: dict) -> dict[str, str]:
    return {h["name"]: h["value"] for h in message.get("headers") or [] if "name" in h}


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
