"""Fixtures of the fuzz suite: one positive and one negative campaign per module (several checks read
each), run with the objects they need and cleaned up after."""

from __future__ import annotations

import pytest
from fuzz_campaign import (
    Campaign,
    auth_headers,
    examples_per_operation,
    load_schema,
    make_seeds,
    supported_operations,
)
from schemathesis import GenerationMode

from assistants_conformance.flows import hold_run, shared_factory


def _campaign(target, contract, mode: GenerationMode) -> Campaign:
    config = target.config
    schema = load_schema(str(contract.path), modes=[mode])
    with shared_factory(target) as factory:
        held = hold_run(factory, timeout=target.profile.run_poll_timeout)
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
