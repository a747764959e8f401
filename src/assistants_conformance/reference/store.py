"""Live objects in memory, written through to SQLite (WAL).

Creations and client-visible modifications are committed before the request is answered (``commit``);
the run engine's many intermediate writes are only marked dirty and flushed in batches by ``flush``,
which the server calls every few milliseconds. Listing relies on each collection's insertion order,
which is also created_at order because the Clock never goes backwards.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

# Collections: assistants (parent None), messages and runs (parent thread id), steps (parent run id), threads.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id     TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    owner  TEXT,
    parent TEXT,
    seq    INTEGER NOT NULL,
    body   TEXT NOT NULL,
    extra  TEXT NOT NULL
)
"""
# File bytes (Files API); kept out of memory, written at once (uploads are acknowledged only after).
_BLOB_SCHEMA = "CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL)"


@dataclass(eq=False)
class Record:
    id: str
    kind: str                    # assistant | thread | message | run | step  (files, vector stores slot in here)
    owner: str | None            # digest of the API key that made it; None when no keys are configured
    parent: str | None
    seq: int
    obj: dict                    # the public wire object
    extra: dict = field(default_factory=dict)   # private server state (e.g. a run's expiry deadline)


class Store:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_BLOB_SCHEMA)
        self.records: dict[str, Record] = {}
        self._children: dict[tuple[str, str | None], list[str]] = {}
        self._dirty: dict[str, Record] = {}
        self._deleted: set[str] = set()
        self._seq = 0

    # ---- loading --------------------------------------------------------------------------------------
    def load(self) -> list[Record]:
        rows = self._db.execute("SELECT id, kind, owner, parent, seq, body, extra FROM objects ORDER BY seq")
        for row in rows:
            rec = Record(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), json.loads(row[6]))
            self._index(rec)
            self._seq = max(self._seq, rec.seq)
        return list(self.records.values())

    def _index(self, rec: Record) -> None:
        self.records[rec.id] = rec
        self._children.setdefault((rec.kind, rec.parent), []).append(rec.id)

    # ---- reads ----------------------------------------------------------------------------------------
    def get(self, object_id: str, kind: str) -> Record | None:
        rec = self.records.get(object_id)
        return rec if rec is not None and rec.kind == kind else None

    def children(self, kind: str, parent: str | None) -> list[str]:
        """Ids in insertion (= created_at, then insertion) order. The list is live: copy before awaiting."""
        return self._children.get((kind, parent), [])

    # ---- writes ---------------------------------------------------------------------------------------
    def new(self, kind: str, object_id: str, owner: str | None, parent: str | None, obj: dict,
            extra: dict | None = None) -> Record:
        self._seq += 1
        rec = Record(object_id, kind, owner, parent, self._seq, obj, extra or {})
        self._index(rec)
        self._dirty[rec.id] = rec
        return rec

    def touch(self, rec: Record) -> None:
        if rec.id in self.records:
            self._dirty[rec.id] = rec

    def delete(self, rec: Record) -> None:
        """Remove a record and everything under it (a thread's messages and runs, a run's steps)."""
        for kind in ("message", "run", "step"):
            for child_id in list(self._children.get((kind, rec.id), ())):
                self.delete(self.records[child_id])
        self.records.pop(rec.id, None)
        siblings = self._children.get((rec.kind, rec.parent))
        if siblings is not None:
            siblings.remove(rec.id)
        self._children.pop(("message", rec.id), None)
        self._children.pop(("run", rec.id), None)
        self._children.pop(("step", rec.id), None)
        self._dirty.pop(rec.id, None)
        self._deleted.add(rec.id)

    # ---- file bytes -------------------------------------------------------------------------------------
    def put_blob(self, file_id: str, data: bytes) -> None:
        with self._db:   # its own transaction, committed on return
            self._db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (file_id, data))

    def get_blob(self, file_id: str) -> bytes | None:
        row = self._db.execute("SELECT data FROM blobs WHERE id = ?", (file_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def delete_blob(self, file_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM blobs WHERE id = ?", (file_id,))

    def commit(self) -> None:
        """Write every pending change in one transaction. Called before answering a mutating request."""
        if not self._dirty and not self._deleted:
            return
        dirty, deleted = self._dirty, self._deleted
        self._dirty, self._deleted = {}, set()
        rows = [(r.id, r.kind, r.owner, r.parent, r.seq, json.dumps(r.obj), json.dumps(r.extra))
                for r in dirty.values()]
        db = self._db
        db.execute("BEGIN")
        try:
            if rows:
                db.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            if deleted:
                db.executemany("DELETE FROM objects WHERE id = ?", [(i,) for i in deleted])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._dirty.update(dirty)
            self._deleted |= deleted
            raise

    flush = commit

    def close(self) -> None:
        self.commit()
        self._db.close()
