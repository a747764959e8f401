"""Dialects: URL mapping, headers, configuration precedence, operations a dialect lacks, contract overlays."""

from __future__ import annotations

import pytest

from assistants_conformance.wire.client import ConformanceClient
from assistants_conformance.wire.config import ConfigError, resolve_config
from assistants_conformance.wire.dialects import AzureDialect, UnsupportedOperation, dialect_for, get_dialect
from assistants_conformance.spec import load_contract
from assistants_conformance.spec.overlay import OverlayError, apply_overlay, merge_patch

AZURE_ENV = {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "azure-key-123",
             "OPENAI_API_VERSION": "2024-05-01-preview", "OPENAI_BASE_URL": "http://ignored:1",
             "OPENAI_API_KEY": "ignored-openai-key"}


def test_azure_urls_carry_api_version_and_keep_their_query():
    azure = AzureDialect("2024-08-01-preview")
    base = azure.normalize_base_url("http://127.0.0.1:9000")
    assert base == "http://127.0.0.1:9000/openai"
    assert azure.normalize_base_url("http://127.0.0.1:9000/openai/") == base
    assert azure.normalize_base_url("https://gw/prefix") == "https://gw/prefix/openai"
    assert azure.url(base, "/threads/t_1/runs") == "http://127.0.0.1:9000/openai/threads/t_1/runs?api-version=2024-08-01-preview"
    assert azure.url(base, "/assistants?limit=2") == "http://127.0.0.1:9000/openai/assistants?limit=2&api-version=2024-08-01-preview"
    assert azure.url(base, "/assistants?api-version=X") == "http://127.0.0.1:9000/openai/assistants?api-version=X"
    assert azure.url(base, "http://elsewhere/x") == "http://elsewhere/x"


def test_dialect_headers():
    assert AzureDialect().headers("k") == {"api-key": "k"}
    assert AzureDialect(bearer=True).headers("tok") == {"Authorization": "Bearer tok"}
    assert AzureDialect().headers(None) == {}
    assert get_dialect("v1").headers("k") == {"OpenAI-Beta": "assistants=v1", "Authorization": "Bearer k"}
    assert get_dialect("openai").headers("k") == {"OpenAI-Beta": "assistants=v2", "Authorization": "Bearer k"}
    assert get_dialect("v1").normalize_base_url("http://h:1") == "http://h:1/v1"


def test_operations_each_dialect_lacks():
    azure, v1, openai = AzureDialect(), get_dialect("v1"), get_dialect("openai")
    assert azure.unsupported("DELETE", "/threads/thread_1/messages/msg_1")
    assert azure.unsupported("DELETE", "/threads/{thread_id}/messages/{message_id}?x=1")
    assert azure.unsupported("GET", "/threads/thread_1/messages/msg_1") is None
    assert azure.unsupported("POST", "/files") and azure.unsupported("GET", "/files/file-1/content")
    assert azure.unsupported("GET", "/vector_stores") is None
    assert v1.unsupported("GET", "/vector_stores/vs_1/files") and v1.unsupported("GET", "/files") is None
    assert openai.unsupported("DELETE", "/threads/t/messages/m") is None
    # Azure's first Assistants versions have the v1 shapes: v1's overlay and gaps stack on Azure's.
    old = AzureDialect("2024-04-01-preview")
    assert old.overlays == ("azure", "v1") and old.unsupported("GET", "/vector_stores")
    assert "vector_stores" in old.missing_capabilities and AzureDialect().overlays == ("azure",)


def test_client_refuses_a_missing_operation_before_sending():
    config = resolve_config({"dialect": "azure", "target_url": "http://127.0.0.1:9", "api_key": "k-123456"}, {})
    with ConformanceClient(config) as client, pytest.raises(UnsupportedOperation, match="no message delete"):
        client.delete("/threads/t/messages/m")  # port 9: a sent request would be a TargetError instead


def test_client_merges_params_into_the_api_version_query():
    config = resolve_config({"dialect": "azure", "target_url": "http://127.0.0.1:9", "api_key": "k-123456"}, {})
    with ConformanceClient(config) as client:
        request = client._build("GET", "/assistants", json=None, params={"limit": 2}, headers=None, content=None,
                                files=None, data=None, timeout=1)
    assert str(request.url) == "http://127.0.0.1:9/openai/assistants?api-version=2024-08-01-preview&limit=2"
    assert request.headers["api-key"] == "k-123456"
    assert "openai-beta" not in request.headers and "authorization" not in request.headers


def test_azure_reads_the_azure_sdk_environment():
    config = resolve_config({"dialect": "azure"}, AZURE_ENV)
    assert config.base_url == "https://res.openai.azure.com/openai"
    assert config.api_key == "azure-key-123" and config.api_version == "2024-05-01-preview"
    assert config.profile.name == "azure" and "files" not in config.profile.capabilities
    assert not config.bearer_token


def test_precedence_cli_over_env_over_defaults():
    config = resolve_config({"dialect": "azure", "api_version": "2025-04-01-preview",
                             "target_url": "http://127.0.0.1:5"}, AZURE_ENV)
    assert config.api_version == "2025-04-01-preview" and config.base_url == "http://127.0.0.1:5/openai"
    assert resolve_config({"dialect": "azure"}, {}).api_version == "2024-08-01-preview"
    env_dialect = resolve_config({}, {"ASSISTANTS_CONFORMANCE_DIALECT": "azure", **AZURE_ENV})
    assert env_dialect.dialect == "azure" and env_dialect.api_key == "azure-key-123"
    # Under the openai dialect the Azure variables are not read.
    openai = resolve_config({}, AZURE_ENV)
    assert openai.base_url == "http://ignored:1/v1" and openai.api_version is None


def test_azure_entra_token_is_sent_as_bearer():
    config = resolve_config({"dialect": "azure", "target_url": "http://h:1"}, {"AZURE_OPENAI_AD_TOKEN": "eyJ-token"})
    assert config.bearer_token and config.api_key == "eyJ-token"
    assert dialect_for(config).headers(config.api_key) == {"Authorization": "Bearer eyJ-token"}
    assert "eyJ-token" not in repr(config)


@pytest.mark.parametrize("cli, env, culprit", [
    ({"dialect": "azure", "api_key": "k-1234", "azure_ad_token": "t-1234"}, {}, "--azure-ad-token: give an API key"),
    ({"api_version": "2024-08-01-preview"}, {}, "--api-version: only the azure dialect"),
    ({"dialect": "v1", "azure_ad_token": "t-1234"}, {}, "--azure-ad-token: only the azure dialect"),
])
def test_bad_dialect_options_are_one_line(cli, env, culprit):
    with pytest.raises(ConfigError) as caught:
        resolve_config(cli, env)
    assert str(caught.value).startswith(culprit) and "\n" not in str(caught.value)


def test_profiles_narrowed_per_dialect():
    assert resolve_config({"dialect": "v1"}, {}).profile.name == "reference"
    v1 = resolve_config({"dialect": "v1"}, {}).profile.capabilities
    assert not v1 & {"vector_stores", "file_search"}
    v1_target = resolve_config({"dialect": "v1", "target_url": "http://h:1"}, {}).profile
    assert v1_target.name == "v1" and "files" in v1_target.capabilities


def test_azure_overlay():
    contract = load_contract(overlays=["azure"], variables={"api_version": "2024-10-01-preview"})
    keys = {op.key for op in contract.operations}
    assert ("DELETE", "/threads/{thread_id}/messages/{message_id}") not in keys
    assert not any(path.startswith("/files") for _, path in keys) and len(keys) == 38
    parameters = contract.document["paths"]["/threads/{thread_id}/runs"]["post"]["parameters"]
    assert {"name": "api-version", "in": "query", "required": True, "description": "Azure API version.",
            "schema": {"type": "string", "enum": ["2024-10-01-preview"]}} in parameters
    # No link points at a removed operation.
    text = contract.path.read_text()
    assert '"operationId": "deleteMessage"' not in text


def test_v1_overlay_shapes():
    contract = load_contract(overlays=["v1"])
    assistant = {"id": "asst_1", "object": "assistant", "created_at": 1, "name": None, "description": None,
                 "model": "m", "instructions": None, "tools": [{"type": "retrieval"}], "file_ids": ["file-1"],
                 "metadata": {}}
    get = ("GET", "/assistants/{assistant_id}")
    assert contract.validate(get, 200, assistant) == []
    assert contract.validate(get, 200, {**assistant, "tool_resources": {}})
    assert contract.validate(get, 200, {k: v for k, v in assistant.items() if k != "file_ids"})
    assert contract.validate(get, 200, {**assistant, "tools": [{"type": "file_search"}]})
    assert contract.validate(("DELETE", "/assistants/{assistant_id}/files/{file_id}"), 200,
                             {"id": "file-1", "object": "assistant.file.deleted", "deleted": True}) == []
    assert contract.validate(("GET", "/threads/{thread_id}/messages/{message_id}/files/{file_id}"), 200,
                             {"id": "file-1", "object": "thread.message.file", "created_at": 1, "message_id": "m"}) == []
    assert contract.validate_request(("POST", "/assistants"), {"model": "m", "tool_resources": {}})
    assert not any(path.startswith("/vector_stores") for _, path in (op.key for op in contract.operations))


def test_overlay_edits_and_errors():
    doc = {"openapi": "3.1.0", "paths": {"/a": {"get": {"operationId": "a", "responses": {}}}},
           "components": {"schemas": {"X": {"type": "object", "properties": {"p": {}, "q": {}}}}}}
    out = apply_overlay(doc, {"changes": [
        {"why": "w", "merge": ["components", "schemas", "X"], "value": {"properties": {"p": None, "r": {"const": "${v}"}}}},
        {"why": "w", "add_parameter": {"name": "z", "in": "query"}},
        {"why": "w", "set": ["components", "schemas", "Y"], "value": True},
    ]}, {"v": "1"})
    assert out["components"]["schemas"]["X"]["properties"] == {"q": {}, "r": {"const": "1"}}
    assert out["paths"]["/a"]["get"]["parameters"] == [{"name": "z", "in": "query"}]
    assert doc["components"]["schemas"]["X"]["properties"] == {"p": {}, "q": {}}  # input untouched
    assert merge_patch({"a": [1]}, {"a": [2]}) == {"a": [2]}
    for change, message in (({"remove": ["paths", "/b"]}, "every change needs a 'why'"),
                            ({"why": "w", "remove": ["paths", "/b"]}, "does not exist"),
                            ({"why": "w", "set": ["x"], "value": "${missing}"}, "no value for ${missing}")):
        with pytest.raises(OverlayError, match=message.replace("$", r"\$").replace("{", r"\{").replace("}", r"\}")):
            apply_overlay(doc, {"changes": [change]}, {})
