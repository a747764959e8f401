"""How one API dialect maps an operation to a URL and headers.

Checks speak in OpenAI's operation paths ("/threads/{thread_id}/runs", already formatted). A dialect
turns such a path into the URL to call and adds the headers the dialect needs (credentials, beta
opt-in). Only `openai` exists today; `azure` (deployment-scoped URL, `api-version` query, `api-key`
header) and `v1` (no beta header) plug in here by adding a class to DIALECTS.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit, urlunsplit


class Dialect(Protocol):
    name: str

    def normalize_base_url(self, url: str) -> str:
        """The API base the dialect's paths are relative to (what the SDK calls base_url)."""
        ...

    def url(self, base_url: str, path: str) -> str:
        """Full URL of operation `path` (absolute URLs are returned unchanged)."""
        ...

    def headers(self, api_key: str | None) -> dict[str, str]:
        """Headers every request carries; no credential header when `api_key` is None."""
        ...


class OpenAIDialect:
    """OpenAI's Assistants API v2: `Authorization: Bearer KEY`, `OpenAI-Beta: assistants=v2`."""

    name = "openai"

    def normalize_base_url(self, url: str) -> str:
        # A bare server URL (http://host:port) gets OpenAI's /v1 prefix; an explicit path is kept.
        parts = urlsplit(url.strip())
        path = parts.path.rstrip("/")
        if not path:
            path = "/v1"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def url(self, base_url: str, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return base_url.rstrip("/") + "/" + path.lstrip("/")

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"OpenAI-Beta": "assistants=v2"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers


DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect()}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; ConfigError for an unknown one."""
    try:
        return DIALECTS[name]
    except KeyError:
        from .config import ConfigError  # here, not at the top: config imports this module

        raise ConfigError(f"dialect: unknown dialect {name!r} (known: {', '.join(sorted(DIALECTS))})") from None
