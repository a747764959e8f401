"""The suites' options, in one place: the pytest plugin adds them to pytest, `assistants-conformance run`
to its own command line (and passes them on to pytest), so both take the same names with the same help."""

from __future__ import annotations

from .wire.dialects import DEFAULT_AZURE_API_VERSION, DIALECTS

DEFAULT_TOKEN_DELAY_MS = 2  # token delay of the reference server the plugin starts without a target URL

# (flag, argparse keyword arguments); pytest's addoption takes the same keywords.
SUITE_OPTIONS: tuple[tuple[str, dict], ...] = (
    ("--target-url", dict(metavar="URL", help="API base URL of the server under test, as the SDK's base_url "
                          "(e.g. http://127.0.0.1:8000/v1). Else env OPENAI_BASE_URL; with neither, the "
                          "embedded reference server is started for the session.")),
    ("--api-key", dict(metavar="KEY", help="API key for the target (else env OPENAI_API_KEY; azure: "
                       "AZURE_OPENAI_API_KEY).")),
    ("--second-api-key", dict(metavar="KEY", help="A second key, for the isolation checks "
                              "(else env ASSISTANTS_CONFORMANCE_SECOND_API_KEY; without one they are unsupported).")),
    ("--dialect", dict(choices=sorted(DIALECTS),
                       help="Wire dialect: openai (default; Assistants v2), azure (Azure OpenAI: --target-url is "
                       "the endpoint, else env AZURE_OPENAI_ENDPOINT; key from env AZURE_OPENAI_API_KEY) or v1 "
                       "(Assistants v1 shapes, OpenAI-Beta: assistants=v1). Else env ASSISTANTS_CONFORMANCE_DIALECT.")),
    ("--api-version", dict(help="azure: the api-version query parameter (else env OPENAI_API_VERSION; "
                           f"default {DEFAULT_AZURE_API_VERSION}).")),
    ("--azure-ad-token", dict(metavar="TOKEN", help="azure: an Entra ID token, sent as Authorization: Bearer "
                              "instead of the api-key header (else env AZURE_OPENAI_AD_TOKEN).")),
    ("--spec", dict(metavar="FILE", help="OpenAPI document to validate against "
                    "(default: specs/assistants-v2.openapi.yaml with the dialect's overlays).")),
    ("--profile", dict(help="Target profile: a YAML file or a name in specs/profiles/ (default: reference "
                       "for the embedded server, else the dialect's: openai, azure or v1).")),
    ("--model", dict(help="Model name to create assistants with (overrides the profile's).")),
    ("--run-slow", dict(action="store_true", default=False,
                        help="Also run slow checks (real expiry waits over 60 s).")),
    ("--check", dict(action="append", default=[], metavar="ID", dest="only_checks",
                     help="Run only this check (repeatable), e.g. --check LOCK-001.")),
    ("--reference-fault", dict(action="append", default=[], metavar="NAME",
                               help="Start the embedded reference server with this fault switched on "
                               "(repeatable; `assistants-conformance serve --list-faults` names them). "
                               "For proving that checks fail; ignored with --target-url.")),
    ("--reference-token-delay-ms", dict(type=int, default=DEFAULT_TOKEN_DELAY_MS, metavar="MS",
                                        help="Token delay of the embedded reference server (default %(default)s).")),
)


# The SUITE_OPTIONS that make up the target configuration (config.resolve_config's names).
TARGET_SETTINGS = ("target_url", "api_key", "second_api_key", "dialect", "spec", "profile", "model", "api_version",
                   "azure_ad_token")


def target_settings(get) -> dict:
    """The target settings given, by name, from `get(name)` (pytest's config.getoption, or getattr of `run`'s
    namespace); None means not given."""
    return {name: get(name) for name in TARGET_SETTINGS if get(name) is not None}


def dest_of(flag: str, kwargs: dict) -> str:
    return kwargs.get("dest") or flag.lstrip("-").replace("-", "_")


def as_arguments(values) -> list[str]:
    """The command-line form of an argparse namespace holding SUITE_OPTIONS (what was given only)."""
    args: list[str] = []
    for flag, kwargs in SUITE_OPTIONS:
        value = getattr(values, dest_of(flag, kwargs))
        if value is None or value == kwargs.get("default"):
            continue
        if kwargs.get("action") == "store_true":
            args.append(flag)
        elif kwargs.get("action") == "append":
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args
