"""Request path -> contract operation, by the contract's own path templates.

    router = Router(contract, base_path="/v1")
    route = router.match("POST", "/v1/threads/thread_1/runs")   # Route(operation, {"thread_id": ...}) | None

The path after the API base (`/v1`, `/openai` for Azure, whatever the target URL names) is matched
segment by segment; a literal segment wins over a parameter (`/threads/runs` is not a thread id).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import Contract, Operation


@dataclass(frozen=True, slots=True)
class Route:
    operation: Operation
    params: dict[str, str]

    @property
    def template(self) -> str:
        return self.operation.path


RECENT = 4096  # paths whose route is remembered (then forgotten all at once)


class Router:
    def __init__(self, contract: Contract, base_path: str = "/v1"):
        self.base_path = base_path.rstrip("/")
        # (method, segment count) -> [(segments, operation)], literal-heavy templates first
        self._table: dict[tuple[str, int], list[tuple[tuple[str, ...], Operation]]] = {}
        for op in contract.operations:
            segments = tuple(s for s in op.path.split("/") if s)
            self._table.setdefault((op.method, len(segments)), []).append((segments, op))
        for candidates in self._table.values():
            candidates.sort(key=lambda c: sum(s.startswith("{") for s in c[0]))
        self._recent: dict[tuple[str, str], Route | None] = {}  # polling asks for the same path again and again

    def api_path(self, path: str) -> str | None:
        """The path below the API base, or None when the request is not under it."""
        if not self.base_path:
            return path
        if path == self.base_path or path.startswith(self.base_path + "/"):
            return path[len(self.base_path):] or "/"
        return None

    def match(self, method: str, path: str) -> Route | None:
        key = (method, path)
        try:
            return self._recent[key]
        except KeyError:
            pass
        if len(self._recent) >= RECENT:
            self._recent.clear()
        route = self._recent[key] = self._match(method, path)
        return route

    def _match(self, method: str, path: str) -> Route | None:
        rest = self.api_path(path)
        if rest is None:
            return None
        parts = tuple(s for s in rest.split("/") if s)
        for segments, op in self._table.get((method.upper(), len(parts)), ()):
            params = {}
            for want, got in zip(segments, parts):
                if want.startswith("{"):
                    params[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return Route(op, params)
        return None
