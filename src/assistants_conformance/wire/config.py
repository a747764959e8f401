"""Target configuration: which server, which credentials, which dialect, and what it can do.

Precedence for every setting: command line > environment > profile > built-in defaults.

    option            environment variable                      default
    target_url        OPENAI_BASE_URL                           None: the plugin starts the reference server
    api_key           OPENAI_API_KEY                            None
    second_api_key    ASSISTANTS_CONFORMANCE_SECOND_API_KEY     None (isolation checks skip)
    dialect           ASSISTANTS_CONFORMANCE_DIALECT            "openai"
    spec              ASSISTANTS_CONFORMANCE_SPEC               None: specs/assistants-v2.openapi.yaml
    profile           ASSISTANTS_CONFORMANCE_PROFILE            "reference" without a target, else "openai"
    model             ASSISTANTS_CONFORMANCE_MODEL              the profile's model

    api_version       OPENAI_API_VERSION (azure only)            2024-08-01-preview (azure only)
    azure_ad_token    AZURE_OPENAI_AD_TOKEN (azure only)         None: authenticate with the api-key header

With `dialect: azure` the target and key are read as the Azure SDK reads them: AZURE_OPENAI_ENDPOINT and
AZURE_OPENAI_API_KEY replace OPENAI_BASE_URL and OPENAI_API_KEY. An Entra ID token (--azure-ad-token) is
sent as `Authorization: Bearer TOKEN` instead of the `api-key` header; give a key or a token, not both.

The target URL is the API base, what the OpenAI SDK calls base_url (http://127.0.0.1:8000/v1). A URL
with no path (http://127.0.0.1:8000) gets the dialect's default prefix, /v1 for `openai` and `v1`. For
`azure` it is the endpoint (https://RESOURCE.openai.azure.com): the API base is endpoint + /openai.

The profile's capabilities are narrowed to what the dialect can have (azure: no files; v1: no vector
stores or file_search), so one profile (e.g. `reference`) serves every dialect.

A profile (specs/profiles/NAME.yaml, named by bare name or by file path) declares the target's
capabilities, model, expiry window, timeouts and concurrency limit; see Profile for the fields.
Every mistake is a one-line ConfigError naming the option, variable or profile field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from . import redact
from .dialects import DEFAULT_AZURE_API_VERSION, get_dialect, make_dialect
from ..errors import ConfigError, ProfileError  # noqa: F401 - raised here, and importable from here
from ..paths import specs_dir
from .sse import StreamBounds

CAPABILITIES = frozenset({
    "streaming", "function_tools", "code_interpreter", "file_search", "vector_stores",
    "files", "cancel", "expiry", "auth", "isolation",
})


@dataclass(frozen=True)
class Profile:
    """What a target can do and how long to wait for it. Times are seconds."""

    name: str
    model: str
    capabilities: frozenset[str]
    description: str = ""
    expiry_window_seconds: float = 600.0  # runs left unattended expire after this long
    request_timeout: float = 30.0  # whole exchange of every plain request
    connect_timeout: float = 5.0  # TCP/TLS connect (capped by request_timeout)
    stream_first_event_timeout: float = 30.0  # from sending the request to the first event
    stream_gap_timeout: float = 30.0  # longest silence between two events
    stream_total_timeout: float = 120.0  # whole stream
    stream_max_events: int = 10_000  # more events than this without `done` is a failure
    run_poll_timeout: float = 60.0  # bound on polling a run until it reaches a status
    run_poll_interval: float = 0.25  # first delay between polls (flows back off from here)
    max_concurrency: int = 8  # parallel requests the concurrency checks and load may use
    # The target's upload size limit in bytes, if declared: the size-limit check uploads one byte past it
    # (None: not declared, the check is unsupported; OpenAI's 512 MB is too much to upload for a check).
    max_file_bytes: int | None = None
    # How long one "day" of a vector store's expires_after lasts on the target, if not the real 86,400 s
    # (None). Only a test server can shorten it; the store-expiry run check (VSTORE-011) needs it to finish.
    vector_store_day_seconds: float | None = None
    # Embedded reference server only (ignored for other targets): its per-file indexing delay, long enough
    # for the batch-cancel check to cancel while files are still in progress.
    reference_index_delay_ms: int | None = None

    def stream_bounds(self) -> StreamBounds:
        return StreamBounds(
            first_event=self.stream_first_event_timeout,
            gap=self.stream_gap_timeout,
            total=self.stream_total_timeout,
            max_events=self.stream_max_events,
        )

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def reference_server_args(self) -> tuple[str, ...]:
        """Options that make an embedded reference server behave as this profile declares (upload limit,
        vector store day, indexing delay). The run expiry window is a ReferenceServer argument of its own."""
        args: list[str] = []
        for option, value in (("--max-file-bytes", self.max_file_bytes),
                              ("--vector-store-day-seconds", self.vector_store_day_seconds),
                              ("--index-delay-ms", self.reference_index_delay_ms)):
            if value is not None:
                args += [option, str(value) if isinstance(value, int) else repr(float(value))]
        return tuple(args)


@dataclass(frozen=True)
class TargetConfig:
    base_url: str | None  # API base incl. /v1 for `openai`; None: no target given (plugin starts the reference)
    api_key: str | None
    second_api_key: str | None
    dialect: str  # "openai", "azure" or "v1" (dialects.py)
    spec_path: str | None
    profile: Profile = field(repr=False)
    api_version: str | None = None  # azure only: the api-version query every request carries
    bearer_token: bool = False  # azure only: api_key is an Entra ID token, sent as Authorization: Bearer

    def __repr__(self) -> str:  # never show keys, even in a debugger or a traceback
        return (f"TargetConfig(base_url={self.base_url!r}, dialect={self.dialect!r}, "
                f"api_version={self.api_version!r}, "
                f"profile={self.profile.name!r}, api_key={'set' if self.api_key else None}, "
                f"second_api_key={'set' if self.second_api_key else None})")

    def with_target(self, base_url: str, api_key: str | None = None,
                    second_api_key: str | None = None) -> TargetConfig:
        """A copy pointing at `base_url` (normalized for the dialect), e.g. a reference server just started."""
        for key in (api_key, second_api_key):
            redact.register_secret(key)
        return dataclasses.replace(
            self,
            base_url=get_dialect(self.dialect).normalize_base_url(base_url),
            api_key=api_key if api_key is not None else self.api_key,
            second_api_key=second_api_key if second_api_key is not None else self.second_api_key,
        )


# --- profiles ---------------------------------------------------------------------------------------

_PROFILE_FIELDS = {f.name: f for f in dataclasses.fields(Profile)}
_REQUIRED = ("model", "capabilities")


def profiles_dir() -> Path:
    return specs_dir() / "profiles"


def profile_path(ref: str) -> Path:
    """The file a profile reference names: an existing path, else specs/profiles/<ref>.yaml."""
    path = Path(ref)
    if path.is_file():
        return path
    if "/" not in ref and "\\" not in ref:
        stem = ref[:-5] if ref.endswith(".yaml") else ref
        candidate = profiles_dir() / f"{stem}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in profiles_dir().glob("*.yaml")) if profiles_dir().is_dir() else []
    raise ProfileError(f"profile: no profile file {ref!r} (bare names known: {', '.join(known) or 'none'})")


def load_profile(ref: str) -> Profile:
    """Read and check a profile named by file path or bare name."""
    path = profile_path(ref)
    where = f"profile {path.name}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{where}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(f"{where}: not valid YAML{at}: {problem}") from None
    return profile_from_mapping(data, where=where, default_name=path.stem)


def profile_from_mapping(data: object, *, where: str = "profile", default_name: str = "custom") -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: must be a mapping of fields, got {type(data).__name__}")
    values: dict[str, object] = {"name": default_name}
    for key, value in data.items():
        if key not in _PROFILE_FIELDS:
            raise ProfileError(f"{where}: unknown field {key!r} (known: {', '.join(_PROFILE_FIELDS)})")
        values[key] = _check_field(where, key, value)
    for key in _REQUIRED:
        if key not in values:
            raise ProfileError(f"{where}: missing required field {key!r}")
    return Profile(**values)


def _check_field(where: str, key: str, value: object) -> object:
    if key == "capabilities":
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ProfileError(f"{where}: field 'capabilities' must be a list of names")
        unknown = sorted(set(value) - CAPABILITIES)
        if unknown:
            raise ProfileError(f"{where}: field 'capabilities' has unknown capability {unknown[0]!r} "
                               f"(known: {', '.join(sorted(CAPABILITIES))})")
        return frozenset(value)
    kind = _PROFILE_FIELDS[key].type
    if kind == "str":
        if not isinstance(value, str) or (key != "description" and not value.strip()):
            raise ProfileError(f"{where}: field {key!r} must be a non-empty string, got {value!r}")
        return value
    if kind in ("int", "int | None"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProfileError(f"{where}: field {key!r} must be a whole number >= 1, got {value!r}")
        return value
    # The remaining fields are durations in seconds.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileError(f"{where}: field {key!r} must be a number of seconds, got {value!r}")
    if value <= 0:
        raise ProfileError(f"{where}: field {key!r} must be positive, got {value!r}")
    return float(value)


# --- resolution -------------------------------------------------------------------------------------

# option name -> environment variable
_SOURCES = {
    "target_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "second_api_key": "ASSISTANTS_CONFORMANCE_SECOND_API_KEY",
    "dialect": "ASSISTANTS_CONFORMANCE_DIALECT",
    "spec": "ASSISTANTS_CONFORMANCE_SPEC",
    "profile": "ASSISTANTS_CONFORMANCE_PROFILE",
    "model": "ASSISTANTS_CONFORMANCE_MODEL",
    "api_version": "OPENAI_API_VERSION",
    "azure_ad_token": "AZURE_OPENAI_AD_TOKEN",
}
# What the Azure SDK reads instead, under the azure dialect.
_AZURE_SOURCES = {"target_url": "AZURE_OPENAI_ENDPOINT", "api_key": "AZURE_OPENAI_API_KEY"}
_AZURE_ONLY = ("api_version", "azure_ad_token")
# The profile a target of each dialect gets by default.
_DEFAULT_PROFILES = {"openai": "openai", "azure": "azure", "v1": "v1"}


def key_sources(dialect: str, name: str = "api_key") -> str:
    """Where setting `name` comes from, for messages: "--api-key or set OPENAI_API_KEY"."""
    variable = (_AZURE_SOURCES if dialect == "azure" else {}).get(name, _SOURCES[name])
    return f"--{name.replace('_', '-')} or set {variable}"


def resolve_config(cli: Mapping[str, object], env: Mapping[str, str]) -> TargetConfig:
    """Combine command-line options (`cli`, keys as in _SOURCES; None = not given) with `env`."""
    unknown = sorted(set(cli) - set(_SOURCES))
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r} (known: {', '.join(_SOURCES)})")

    sources = dict(_SOURCES)

    def pick(name: str) -> tuple[str | None, str]:
        """The value and where it came from (for error messages)."""
        value = cli.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise ConfigError(f"--{name.replace('_', '-')}: must be a string, got {value!r}")
            if value.strip():
                return value.strip(), f"--{name.replace('_', '-')}"
        env_name = sources[name]
        value = env.get(env_name)
        return (value.strip() if value and value.strip() else None), env_name

    dialect_name, _ = pick("dialect")
    dialect = get_dialect(dialect_name or "openai")
    azure = dialect.name == "azure"
    if azure:
        sources.update(_AZURE_SOURCES)
    else:
        for name in _AZURE_ONLY:  # the environment's Azure settings are simply not read
            if cli.get(name) is not None:
                raise ConfigError(f"--{name.replace('_', '-')}: only the azure dialect takes it "
                                  f"(the dialect is {dialect.name!r}; give --dialect azure)")

    url, url_source = pick("target_url")
    base_url = None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{url_source}: not an http(s) URL with a host: {redact.redact_url(url)!r}")
        base_url = dialect.normalize_base_url(url)

    profile_ref, _ = pick("profile")
    profile = load_profile(profile_ref or ("reference" if base_url is None else _DEFAULT_PROFILES[dialect.name]))
    model, _ = pick("model")
    if model:
        profile = dataclasses.replace(profile, model=model)
    api_version = token = None
    if azure:
        api_version = pick("api_version")[0] or DEFAULT_AZURE_API_VERSION
        token, token_source = pick("azure_ad_token")
    # One profile serves every dialect: drop the capabilities the dialect cannot have.
    masked = profile.capabilities - make_dialect(dialect.name, api_version).missing_capabilities
    if masked != profile.capabilities:
        profile = dataclasses.replace(profile, capabilities=masked)

    spec, spec_source = pick("spec")
    if spec is not None and not Path(spec).is_file():
        raise ConfigError(f"{spec_source}: no such file: {spec}")

    api_key, key_source = pick("api_key")
    second_api_key, _ = pick("second_api_key")
    if token is not None:
        if api_key is not None:
            raise ConfigError(f"{token_source}: give an API key ({key_source}) or an Entra ID token, not both")
        api_key = token
    for key in (api_key, second_api_key):
        redact.register_secret(key)
    return TargetConfig(base_url=base_url, api_key=api_key, second_api_key=second_api_key,
                        dialect=dialect.name, spec_path=spec, profile=profile,
                        api_version=api_version, bearer_token=token is not None)

