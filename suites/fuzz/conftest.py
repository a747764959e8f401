"""Fixtures of the fuzz suite: one positive and one negative campaign per module (several checks read
each), run with the objects they need and cleaned up after."""

from __future__ import annotations

import pytest
from fuzz_campaign import (
    Campaign,
    Seeds,
    auth_headers,
    examples_per_operation,
    load_schema,
    make_seeds,
    supported_operations,
)
from fuzz_stateful import StatefulRun, load_stateful_schema, run_stateful, scenarios_budget
from schemathesis import GenerationMode

from assistants_conformance.flows import run_for_ids, shared_factory


def _campaign(target, contract, mode: GenerationMode) -> Campaign:
    config = target.config
    schema = load_schema(str(contract.path), modes=[mode])
    with shared_factory(target) as factory:
        held = run_for_ids(factory, target.profile)
        campaign = Campaign(
            schema=schema,
            factory=factory,
            seeds=make_seeds(factory, held, capabilities=target.profile.capabilities),
            base_url=config.base_url,
            headers=auth_headers(config),
            timeout=target.profile.request_timeout,
            examples=examples_per_operation(),
        )
        campaign.run(supported_operations(schema, target.profile.capabilities), mode)
    return campaign


@pytest.fixture(scope="module")
def positive_campaign(target, contract) -> Campaign:
    return _campaign(target, contract, GenerationMode.POSITIVE)


@pytest.fixture(scope="module")
def negative_campaign(target, contract) -> Campaign:
    return _campaign(target, contract, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def stateful_run(target, contract) -> StatefulRun:
    """Scenarios along the contract's links, mostly valid requests with schemathesis' share of invalid
    ones. Roots get a real assistant and an idle thread (not the campaigns' held run: its thread is
    locked)."""
    config = target.config
    schema = load_stateful_schema(
        load_schema(str(contract.path), modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE]),
        target.profile.capabilities)
    with shared_factory(target) as factory:
        seeds = Seeds({"assistant_id": factory.assistant()["id"], "thread_id": factory.thread()["id"]})
        run = StatefulRun(factory=factory, seeds=seeds, base_url=config.base_url, headers=auth_headers(config),
                          timeout=target.profile.request_timeout)
        run_stateful(schema, run, scenarios=scenarios_budget())
    return run
