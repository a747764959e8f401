"""Stateful fuzzing through the contract's OpenAPI links (schemathesis' state machine).

Schemathesis turns every link of specs/assistants-v2.openapi.yaml (create thread -> create message /
create run / get thread; create run -> get run, list steps, submit tool outputs, cancel; ...) into a
hypothesis rule, so a scenario is a chain of calls where later requests carry ids taken from earlier
answers. We subclass the machine it builds to:

* send to the target's base URL with the dialect's auth headers, within the profile's request timeout;
* make requests safe and ours (shared with the campaigns: `stream` pinned to false, metadata tagged with
  the session id, every created object tracked for cleanup by the Factory);
* give roots (first calls of a scenario) and unlinked assistant ids real objects of the fixture, so that
  chains start from something that exists;
* judge every answer (no 5xx, documented status and content type, schema, and schemathesis' two stateful
  checks: a deleted object is gone, a created one is there) and collect the outcomes instead of raising,
  like the campaigns (no shrinking against a live server, every problem at once);
* count, independently of schemathesis' own bookkeeping, the steps that really sent an id first seen in
  an earlier answer of the same scenario.

Only the contract's own links are followed: schemathesis' link inference is switched off, because an
inferred link from a list operation (GET /assistants -> DELETE /assistants/{id}) would act on objects
the session did not create.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fuzz_campaign import (
    CHECKS,
    Outcome,
    Seeds,
    _json,
    describe_failures,
    examples_per_operation,
    exchange_record,
    prepare_body,
    render_exchange,
    track_created,
    unsupported_path_regex,
    untagged_creation,
)
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from assistants_conformance.flows import Factory

# Checks of every stateful step: the campaigns' checks minus negative_data_rejection (FUZZ-003's
# business), plus schemathesis' checks that need the chain's history.
STATEFUL_CHECKS = {
    **{name: fn for name, fn in CHECKS.items() if name != "negative_data_rejection"},
    "use_after_free": use_after_free,
    "ensure_resource_availability": ensure_resource_availability,
}
STEPS_PER_SCENARIO = 6
# Fields of an answer whose values later requests may name (what the contract's links read).
ID_FIELDS = ("id", "thread_id", "run_id", "assistant_id", "first_id", "last_id")


def scenarios_budget() -> int:
    """Scenarios per session: scales with the campaigns' ASSISTANTS_CONFORMANCE_FUZZ_EXAMPLES (default 6 -> 36)."""
    return 6 * examples_per_operation()


def load_stateful_schema(schema, capabilities: frozenset[str]):
    """The schema restricted to what the profile supports, following the contract's links only."""
    schema.config.phases.stateful.inference.algorithms = []
    excluded = unsupported_path_regex(capabilities)
    return schema.exclude(path_regex=excluded) if excluded else schema


@dataclass
class Step:
    """One call of a scenario."""

    outcome: Outcome
    via: str  # the link followed ("POST /threads -> 200 -> CreateRun"), or "root"
    link_applied: bool  # schemathesis says it put a value from the parent's answer into the request
    linked_ids: list[str]  # ids in the request first seen in an earlier answer of the same scenario


@dataclass
class StatefulRun:
    """Everything the machine saw, for the checks to read."""

    factory: Factory
    seeds: Seeds
    base_url: str
    headers: dict[str, str]
    timeout: float
    steps: list[Step] = field(default_factory=list)
    scenarios: int = 0
    restarts: int = 0  # fresh hypothesis runs after flaky replays (see run_stateful)

    @property
    def outcomes(self) -> list[Outcome]:
        return [step.outcome for step in self.steps]

    def linked_steps(self) -> list[Step]:
        return [step for step in self.steps if step.linked_ids]

    def links_followed(self) -> Counter:
        """Link name -> steps that followed it and really sent an id from an earlier answer."""
        return Counter(step.via for step in self.steps if step.via != "root" and step.linked_ids)

    def report(self) -> str:
        """The summary, then how often each link was followed with a real earlier id."""
        lines = [self.summary() + f", {self.restarts} restarts"]
        lines += [f"  {count:3d}  {via}" for via, count in self.links_followed().most_common()]
        modes = Counter(s.outcome.mode for s in self.steps)
        lines.append("modes: " + ", ".join(f"{mode}: {n}" for mode, n in sorted(modes.items())))
        statuses = Counter((s.outcome.operation, s.outcome.status) for s in self.steps)
        lines.append("statuses: " + ", ".join(f"{op} {st}: {n}" for (op, st), n in sorted(statuses.items(), key=str)))
        return "\n".join(lines)

    def summary(self) -> str:
        transitions = [s for s in self.steps if s.via != "root"]
        return (f"{self.scenarios} scenarios, {len(self.steps)} steps, {len(transitions)} along links "
                f"({sum(s.link_applied for s in transitions)} with a linked value per schemathesis), "
                f"{len(self.linked_steps())} steps sent an id from an earlier answer, "
                f"{len(self.links_followed())} distinct links used")


def run_stateful(schema, run: StatefulRun, *, scenarios: int) -> StatefulRun:
    """Run about `scenarios` scenarios. A live server answers the same request differently over time
    (a thread deleted by an earlier scenario), which hypothesis reports as flaky data generation when
    it replays a prefix; like schemathesis' own runner we then start a fresh run for the rest. Every
    start runs at least one scenario, so there are at most `scenarios` starts."""
    machine = machine_for(schema, run)
    for _ in range(scenarios):
        remaining = scenarios - run.scenarios
        if remaining <= 0:
            break
        try:
            run_state_machine_as_test(machine, settings=settings(
                max_examples=remaining, stateful_step_count=STEPS_PER_SCENARIO, deadline=None, database=None,
                phases=[Phase.generate], suppress_health_check=list(HealthCheck), derandomize=False))
        except Flaky:
            run.restarts += 1
    return run


def machine_for(schema, run: StatefulRun) -> type:
    """Schemathesis' state machine for `schema`, wired to the target and recording into `run`."""
    base = schema.as_state_machine()

    class TargetMachine(base):
        def setup(self) -> None:
            run.scenarios += 1
            self.seen_ids: set[str] = set()  # ids in this scenario's answers (not the fixture's)

        def step(self, input):
            case = input.case
            positive = _is_positive(case)
            if positive:
                fill_real_ids(case, run.seeds, run.factory.model, input.applied_parameters)
            prepare_body(case, run.factory, None, positive=positive)
            linked = sorted(self.seen_ids & set(_request_ids(case)))
            self.failures: dict[str, str] = {}
            self.reasons: dict[str, str] = {}
            output = super().step(input)
            response = output.response
            body = _json(response)
            problem = untagged_creation(case, response, run.factory.session_id)
            if problem:  # a harness bug, not the target's: stop loudly
                raise AssertionError(problem)
            track_created(run.factory, case.method.upper(), case.path, case.path_parameters, response.status_code,
                          body)
            if 200 <= response.status_code < 300:
                self.seen_ids |= set(_answer_ids(body)) - set(run.seeds.ids.values())
            run.steps.append(Step(
                outcome=Outcome(operation=case.operation.label, mode="positive" if positive else "negative",
                                description=_description(case), status=response.status_code,
                                evidence=render_exchange(case, response), failures=self.failures,
                                reasons=self.reasons, exchange=exchange_record(response)),
                via=_link_name(input), link_applied=input.transition is not None and input.is_applied,
                linked_ids=linked))
            return output

        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"base_url": run.base_url, "headers": run.headers, "timeout": run.timeout}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            for name, check in STATEFUL_CHECKS.items():
                try:
                    case.validate_response(response, checks=[check], headers=run.headers,
                                           transport_kwargs=kwargs or None, recorder=self.recorder)
                except FailureGroup as exc:
                    self.failures[name], self.reasons[name] = describe_failures(exc, response.status_code)

    return TargetMachine


def fill_real_ids(case, seeds: Seeds, model: str, applied: list) -> None:
    """Give a valid case real objects where no link supplied one: path parameters, the body's
    assistant_id (the contract's run links carry a thread id, never an assistant) and the model."""
    linked = {name for _, name in applied}
    # Also along links: POST /assistants -> createRun supplies the assistant but not the thread. Never
    # for deletes, so that a dropped link value cannot delete the fixture's objects.
    if case.method.upper() != "DELETE":
        for name, value in seeds.path_parameters(case.operation).items():
            if name not in linked:
                case.path_parameters = {**(case.path_parameters or {}), name: value}
    body = case.body
    if isinstance(body, dict) and "assistant_id" in body and "assistant_id" not in linked:
        case.body = body = {**body, "assistant_id": seeds.ids["assistant_id"]}
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        case.body = {**body, "model": model}  # a made-up model name is rejected, ending the chain


def _is_positive(case) -> bool:
    return case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE


def _description(case) -> str:
    """What the generator did (negative: what it broke), as the campaigns record it."""
    return (getattr(case.meta.phase.data, "description", "") if case.meta else "") or ""


def _link_name(input) -> str:
    return input.transition.id if input.transition is not None else "root"


def _request_ids(case) -> list[str]:
    values = list((case.path_parameters or {}).values())
    if isinstance(case.body, dict):
        values += [case.body.get(name) for name in ("assistant_id", "thread_id", "run_id")]
    return [v for v in values if isinstance(v, str)]


def _answer_ids(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [body[name] for name in ID_FIELDS if isinstance(body.get(name), str)]
