"""Target configuration: precedence, URL normalization, profiles and their one-line errors."""

from __future__ import annotations

import pytest

from assistants_conformance.wire.config import (
    CAPABILITIES, ConfigError, ProfileError, load_profile, resolve_config,
)
from assistants_conformance.wire.dialects import get_dialect


def test_shipped_profiles():
    reference = load_profile("reference")
    assert reference.model == "reference-model" and reference.capabilities == CAPABILITIES
    # What the plugin passes to the embedded server it starts for this profile.
    assert reference.reference_server_args() == ("--max-file-bytes", "65536", "--vector-store-day-seconds", "2.0",
                                                 "--index-delay-ms", "300")
    assert reference.expiry_window_seconds == 8
    openai = load_profile("openai")
    assert openai.reference_server_args() == () and openai.vector_store_day_seconds is None
    assert openai.model == "gpt-4o-mini" and openai.expiry_window_seconds == 600
    assert openai.request_timeout > reference.request_timeout
    bounds = openai.stream_bounds()
    assert (bounds.first_event, bounds.gap, bounds.total, bounds.max_events) == (60, 60, 300, 50000)


def test_defaults_without_a_target():
    config = resolve_config({}, {})
    assert config.base_url is None and config.profile.name == "reference"
    assert config.dialect == "openai" and config.api_key is None and config.spec_path is None


def test_command_line_beats_environment_beats_profile():
    env = {"OPENAI_BASE_URL": "http://env.example:1/v1", "OPENAI_API_KEY": "sk-env-key",
           "ASSISTANTS_CONFORMANCE_SECOND_API_KEY": "sk-env-second", "ASSISTANTS_CONFORMANCE_MODEL": "env-model",
           "ASSISTANTS_CONFORMANCE_PROFILE": "openai"}
    from_env = resolve_config({}, env)
    assert from_env.base_url == "http://env.example:1/v1" and from_env.api_key == "sk-env-key"
    assert from_env.second_api_key == "sk-env-second"
    assert from_env.profile.name == "openai" and from_env.profile.model == "env-model"  # env > profile

    cli = {"target_url": "http://cli.example:2/v1", "api_key": "sk-cli-key", "profile": "reference",
           "model": "cli-model", "second_api_key": None}
    from_cli = resolve_config(cli, env)
    assert from_cli.base_url == "http://cli.example:2/v1" and from_cli.api_key == "sk-cli-key"
    assert from_cli.second_api_key == "sk-env-second"  # None on the command line means "not given"
    assert from_cli.profile.name == "reference" and from_cli.profile.model == "cli-model"


def test_a_target_without_profile_gets_the_openai_profile():
    assert resolve_config({"target_url": "https://api.example.com/v1"}, {}).profile.name == "openai"


@pytest.mark.parametrize("given, expected", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
    ("https://gw.example.com/openai/v1", "https://gw.example.com/openai/v1"),
])
def test_target_url_is_the_api_base(given, expected):
    assert resolve_config({"target_url": given}, {}).base_url == expected


def test_dialect_openai_urls_and_headers():
    dialect = get_dialect("openai")
    assert dialect.url("http://h/v1", "/threads/t_1/runs") == "http://h/v1/threads/t_1/runs"
    assert dialect.url("http://h/v1", "http://h/health") == "http://h/health"
    assert dialect.headers("sk-x") == {"OpenAI-Beta": "assistants=v2", "Authorization": "Bearer sk-x"}
    assert "Authorization" not in dialect.headers(None)


@pytest.mark.parametrize("cli, env, expected", [
    ({"dialect": "martian"}, {}, "dialect: unknown dialect 'martian'"),
    ({}, {"ASSISTANTS_CONFORMANCE_DIALECT": "klingon"}, "dialect: unknown dialect 'klingon'"),
    ({"target_url": "ftp://x"}, {}, "--target-url: not an http(s) URL"),
    ({}, {"OPENAI_BASE_URL": "localhost:8000"}, "OPENAI_BASE_URL: not an http(s) URL"),
    ({"profile": "nonexistent"}, {}, "profile: no profile file 'nonexistent'"),
    ({"spec": "/no/such/spec.yaml"}, {}, "--spec: no such file"),
    ({"target": "http://x"}, {}, "unknown option 'target'"),
    ({"api_key": 42}, {}, "--api-key: must be a string"),
])
def test_bad_options_name_the_culprit(cli, env, expected):
    with pytest.raises(ConfigError) as caught:
        resolve_config(cli, env)
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)


GOOD = "model: m\ncapabilities: [streaming]\n"


@pytest.mark.parametrize("text, expected", [
    (GOOD + "colour: blue\n", "unknown field 'colour'"),
    (GOOD + "request_timeout: -1\n", "field 'request_timeout' must be positive, got -1"),
    (GOOD + "stream_gap_timeout: soon\n", "field 'stream_gap_timeout' must be a number of seconds"),
    (GOOD + "stream_total_timeout: true\n", "field 'stream_total_timeout' must be a number of seconds"),
    (GOOD + "max_concurrency: 2.5\n", "field 'max_concurrency' must be a whole number >= 1"),
    (GOOD + "model: ''\n", "field 'model' must be a non-empty string"),
    ("model: m\ncapabilities: [streaming, teleport]\n", "field 'capabilities' has unknown capability 'teleport'"),
    ("model: m\ncapabilities: streaming\n", "field 'capabilities' must be a list of names"),
    ("capabilities: []\n", "missing required field 'model'"),
    ("model: [unclosed\n", "not valid YAML at line 2"),
    ("- just\n- a list\n", "must be a mapping of fields, got list"),
])
def test_bad_profile_errors_name_the_field(tmp_path, text, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        resolve_config({"profile": str(path)}, {})
    message = str(caught.value)
    assert message.startswith("profile mine.yaml: ") and expected in message and "\n" not in message


def test_profile_by_path_gets_its_file_name_and_overrides_defaults(tmp_path):
    path = tmp_path / "my-server.yaml"
    path.write_text(GOOD + "request_timeout: 3\nmax_concurrency: 2\n")
    profile = resolve_config({"profile": str(path), "target_url": "http://127.0.0.1:1"}, {}).profile
    assert profile.name == "my-server" and profile.request_timeout == 3.0 and profile.max_concurrency == 2
    assert profile.capabilities == {"streaming"} and profile.stream_gap_timeout == 30.0  # default


def test_unreadable_profile(tmp_path):
    path = tmp_path / "locked.yaml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ProfileError, match="profile locked.yaml: "):
        load_profile(str(path))


def test_keys_are_not_in_the_config_repr_and_are_registered_for_redaction():
    from assistants_conformance.wire import redact

    config = resolve_config({"api_key": "sk-repr-secret-1234"}, {})
    assert "sk-repr-secret-1234" not in repr(config)
    assert redact.redact_text("x sk-repr-secret-1234 y") == "x [REDACTED] y"


def test_with_target_normalizes_and_registers_keys():
    config = resolve_config({}, {}).with_target("http://127.0.0.1:5555", api_key="sk-started-server-key")
    assert config.base_url == "http://127.0.0.1:5555/v1" and config.api_key == "sk-started-server-key"
    from assistants_conformance.wire import redact

    assert "sk-started-server-key" in redact.registered_secrets()
