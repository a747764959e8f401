"""How one API dialect maps an operation to a URL and headers, and which operations it has.

Checks speak in OpenAI's operation paths ("/threads/{thread_id}/runs", already formatted). A dialect
turns such a path into the URL to call and adds the headers the dialect needs (credentials, beta
opt-in). Three dialects:

    openai  OpenAI's Assistants v2: {base}/v1/..., Authorization: Bearer KEY, OpenAI-Beta: assistants=v2
    azure   Azure OpenAI: {endpoint}/openai/...?api-version=V, api-key: KEY (Authorization: Bearer TOKEN
            with an Entra token instead), no OpenAI-Beta; no message delete, no /files
    v1      OpenAI's Assistants v1 (deprecated): OpenAI URLs, OpenAI-Beta: assistants=v1; no vector stores

An operation a dialect lacks is not an error of the target: the client raises UnsupportedOperation before
sending, and the plugin reports the check that needed it as unsupported (never failed, never passed).
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ConfigError

DEFAULT_AZURE_API_VERSION = "2024-08-01-preview"
# Azure api-versions whose Assistants API has the v1 shapes; every later preview has the v2 shapes.
AZURE_V1_SHAPED_VERSIONS = frozenset({"2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview"})


def v1_shaped_azure_version(api_version: str) -> bool:
    return api_version in AZURE_V1_SHAPED_VERSIONS


class UnsupportedOperation(Exception):
    """A check asked for an operation the target's dialect does not have."""

    def __init__(self, dialect: str, method: str, path: str, reason: str):
        super().__init__(f"the {dialect} dialect has no {method.upper()} {path} ({reason})")
        self.dialect, self.method, self.path, self.reason = dialect, method.upper(), path, reason


class Dialect(Protocol):
    name: str
    overlays: tuple[str, ...]  # contract overlays applied in order on top of our contract (specs/overlays/)
    missing_capabilities: frozenset[str]  # profile capabilities this dialect cannot have

    def normalize_base_url(self, url: str) -> str:
        """The API base the dialect's paths are relative to (what the SDK calls base_url)."""
        ...

    def url(self, base_url: str, path: str) -> str:
        """Full URL of operation `path` (absolute URLs are returned unchanged)."""
        ...

    def headers(self, api_key: str | None) -> dict[str, str]:
        """Headers every request carries; no credential header when `api_key` is None."""
        ...

    def unsupported(self, method: str, path: str) -> str | None:
        """Why (METHOD, path) is not an operation of this dialect; None when it is. `path` may be a
        template (/threads/{thread_id}) or formatted (/threads/thread_abc), with or without a query."""
        ...


def _template_regex(template: str, *, subtree: bool) -> re.Pattern:
    """A regex matching `template` with any value in its {parameters} (and, with subtree, paths below it)."""
    body = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
    return re.compile("^" + body + ("(/.*)?$" if subtree else "$"))


class _Missing:
    """Operations a dialect lacks: (method or None for all, path template, whole subtree?, reason)."""

    def __init__(self, *entries: tuple[str | None, str, bool, str]):
        self._rules = [(m, _template_regex(p, subtree=s), r) for m, p, s, r in entries]

    def reason(self, method: str, path: str) -> str | None:
        if path.startswith(("http://", "https://")):
            return None  # an absolute URL is the check's own business
        bare = urlsplit(path).path.rstrip("/") or "/"
        for rule_method, pattern, reason in self._rules:
            if (rule_method is None or rule_method == method.upper()) and pattern.match(bare):
                return reason
        return None


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _normalized_with_default_path(url: str, default_path: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or default_path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class OpenAIDialect:
    """OpenAI's Assistants API v2: `Authorization: Bearer KEY`, `OpenAI-Beta: assistants=v2`."""

    name = "openai"
    beta = "assistants=v2"
    overlays: tuple[str, ...] = ()
    missing_capabilities: frozenset[str] = frozenset()
    _missing = _Missing()

    def normalize_base_url(self, url: str) -> str:
        # A bare server URL (http://host:port) gets OpenAI's /v1 prefix; an explicit path is kept.
        return _normalized_with_default_path(url, "/v1")

    def url(self, base_url: str, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return _join(base_url, path)

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"OpenAI-Beta": self.beta}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def unsupported(self, method: str, path: str) -> str | None:
        return self._missing.reason(method, path)


class V1Dialect(OpenAIDialect):
    """OpenAI's Assistants API v1 (deprecated): same URLs and auth, `OpenAI-Beta: assistants=v1`.
    v1 has file_ids and the retrieval tool instead of tool_resources, file_search and vector stores."""

    name = "v1"
    beta = "assistants=v1"
    overlays = ("v1",)
    missing_capabilities = frozenset({"vector_stores", "file_search"})
    _lacks = ((None, "/vector_stores", True, "vector stores are an Assistants v2 feature"),)
    _missing = _Missing(*_lacks)


class AzureDialect:
    """Azure OpenAI: `{endpoint}/openai{path}?api-version=V`, `api-key: KEY` (or `Authorization: Bearer
    TOKEN` with an Entra ID token, `bearer=True`), no OpenAI-Beta header."""

    name = "azure"
    _lacks = (
        ("DELETE", "/threads/{thread_id}/messages/{message_id}", False,
         "Azure's Assistants API has no message delete"),
        (None, "/files", True, "Azure's Assistants API has no /files operations (Azure Files is another API)"),
    )

    def __init__(self, api_version: str = DEFAULT_AZURE_API_VERSION, *, bearer: bool = False):
        self.api_version = api_version
        self.bearer = bearer
        lacks = self._lacks
        self.overlays: tuple[str, ...] = ("azure",)
        self.missing_capabilities = frozenset({"files"})
        if v1_shaped_azure_version(api_version):
            # Azure's first Assistants versions answer v1 shapes (file_ids, retrieval, no vector stores).
            self.overlays += V1Dialect.overlays
            self.missing_capabilities |= V1Dialect.missing_capabilities
            lacks += V1Dialect._lacks
        self._missing = _Missing(*lacks)

    def normalize_base_url(self, url: str) -> str:
        # The target is the Azure endpoint (https://RESOURCE.openai.azure.com, maybe behind a gateway
        # path); the API base is endpoint + /openai, as the AzureOpenAI client builds it.
        parts = urlsplit(url.strip())
        path = parts.path.rstrip("/")
        if not path.endswith("/openai"):
            path += "/openai"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def url(self, base_url: str, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path  # used as is: checks probing a missing api-version build their own URL
        parts = urlsplit(_join(base_url, path))
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(name == "api-version" for name, _ in query):  # a version the path names wins
            query.append(("api-version", self.api_version))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    def headers(self, api_key: str | None) -> dict[str, str]:
        if api_key is None:
            return {}
        return {"Authorization": f"Bearer {api_key}"} if self.bearer else {"api-key": api_key}

    def unsupported(self, method: str, path: str) -> str | None:
        return self._missing.reason(method, path)


DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect(), "azure": AzureDialect(), "v1": V1Dialect()}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name` with its default settings; ConfigError for an unknown one."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ConfigError(f"dialect: unknown dialect {name!r} (known: {', '.join(sorted(DIALECTS))})") from None


def make_dialect(name: str, api_version: str | None = None, *, bearer: bool = False) -> Dialect:
    """The dialect `name` with its settings (azure: api-version, Entra token as bearer)."""
    if name == "azure":
        return AzureDialect(api_version or DEFAULT_AZURE_API_VERSION, bearer=bearer)
    return get_dialect(name)


def dialect_for(config) -> Dialect:
    """The dialect of a TargetConfig, with its settings."""
    return make_dialect(config.dialect, config.api_version, bearer=config.bearer_token)
