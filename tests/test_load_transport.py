"""The load users' plain-request path (loadtest.transport, geventhttpclient) against the reference
server and misbehaving targets on 127.0.0.1: the dialect's headers, parsed bodies, evidence built on
demand and redacted, every failure bounded and named in the client's plain words."""

from __future__ import annotations

import dataclasses
import time

import pytest

from assistants_conformance.wire.client import TargetError
from assistants_conformance.wire.config import resolve_config
from assistants_conformance.launcher import ReferenceServer
from assistants_conformance.loadtest.transport import FastTransport

from load_helpers import free_port, raw_server

KEY = "sk-load-transport-secret"


def _transport(url: str, key: str | None = KEY, timeout: float | None = None) -> FastTransport:
    config = resolve_config({"target_url": url, "profile": "reference"}, {"OPENAI_API_KEY": key or ""})
    if timeout is not None:
        config = dataclasses.replace(config, profile=dataclasses.replace(config.profile, request_timeout=timeout))
    return FastTransport(config, key)


@pytest.fixture(scope="module")
def server():
    with ReferenceServer(api_keys=(KEY,)) as srv:
        yield srv


def test_requests_carry_the_dialect_headers_and_bodies(server):
    transport = _transport(server.base_url)
    try:
        created = transport.request("POST", "/assistants", json={"model": "gpt-4o", "name": "t"})
        assert created.status_code == 200 and created.json["object"] == "assistant"
        got = transport.request("GET", f"/assistants/{created.json['id']}")
        assert got.json["id"] == created.json["id"] and got.json_error is None
        listed = transport.request("GET", "/assistants", params={"limit": 1})
        assert len(listed.json["data"]) == 1
        wrong = _transport(server.base_url, key="sk-wrong-key-0000").request("GET", "/assistants")
        assert wrong.status_code == 401
    finally:
        transport.close()


def test_evidence_is_built_on_demand_and_redacted(server):
    transport = _transport(server.base_url)
    response = transport.request("POST", "/assistants", json={"model": "gpt-4o", "name": KEY})
    assert response._exchange is None                    # nothing recorded per request
    exchange = response.exchange
    assert exchange.status == 200 and exchange.method == "POST"
    assert exchange.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert KEY not in repr(exchange.to_dict())          # the key echoed in the body is hidden too
    transport.close()


def test_target_down_is_connection_refused():
    transport = _transport(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(TargetError) as err:
        transport.request("GET", "/assistants")
    assert err.value.reason == "connection refused (is the target running?)"


@pytest.mark.parametrize("mode,reason", [("stall", "no response within 0.5 s"),
                                         ("trickle", "response body not complete within 0.5 s"),
                                         ("nothttp", "the answer is not HTTP")])
def test_misbehaving_targets_end_on_the_deadline_with_a_reason(mode, reason):
    """A body that trickles one byte per 0.1 s never resets the bound: it is a deadline."""
    with raw_server(mode) as url:
        transport = _transport(url, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TargetError) as err:
            transport.request("GET", "/assistants")
        elapsed = time.monotonic() - started
        transport.close()
    assert err.value.reason.startswith(reason), err.value.reason
    assert elapsed < 1.0
