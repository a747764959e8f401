"""The pytest plugin: target options, fixtures, check markers, capability gating and failure rendering.

Registered by the `pytest11` entry point when installed, and by the root conftest.py in a clone.
"""

from __future__ import annotations

import dataclasses
import secrets
import sys
import time
import uuid
from dataclasses import dataclass

import pytest

from . import outcomes
from .checks import CheckDefinitionError, ConformanceFailure, check_info, render_failure
from .options import SUITE_OPTIONS
from .session_config import cli_options, resolved_config
from .outcomes import unsupported
from .reports.results import DeselectionRecorder, ResultsWriter, failure_properties
from .reports.results import message_of as _message_of
from .wire.client import ConformanceClient, TargetError
from .wire.dialects import dialect_for

RECORDER = pytest.StashKey[list]()
CHECK = pytest.StashKey[object]()

PREFLIGHT_FAILED = 2  # pytest's exit status when preflight finds the target cannot be tested
PREFLIGHT_STOPPED = pytest.StashKey[str]()  # config.stash: the one line preflight printed, if it stopped


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assistants-conformance", "Assistants API conformance")
    for flag, kwargs in SUITE_OPTIONS:  # shared with `assistants-conformance run` (options.py)
        group.addoption(flag, **kwargs)
    group.addoption("--results-json", metavar="PATH",
                    help="Write one record per check (id, level, status, message) to this JSON file.")


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "check(id): stable conformance check id, e.g. LIFE-001",
        "level(name): MUST, SHOULD or MAY",
        "capability(name, ...): target capabilities the check needs (see specs/profiles)",
        "profile_field(name, ...): profile fields the check needs set (e.g. max_file_bytes)",
        "varies(why): the check's outcome may differ between identical runs (random inputs, a target's choice)",
        "slow: long-running check (real expiry waits); run with --run-slow",
        "dialect(name): the check is about one dialect's own rule (azure, v1); unsupported under the others",
    ):
        config.addinivalue_line("markers", line)
    # Checks share module-scoped setups (one stream, one fuzz campaign): under pytest-xdist keep each
    # suite module on one worker (items are grouped in pytest_collection_modifyitems), instead of
    # every worker paying for every setup. Only the default mode is changed.
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
    if cli_options(config):
        # The user named a target, key or profile: a bad value is reported now, once, as one line,
        # not later inside whichever test first needs the target.
        resolved_config(config)


# Options that only show things (help, markers, fixtures, the collected tests): no target is needed.
_INSPECTING = ("help", "markers", "showfixtures", "show_fixtures_per_test", "collectonly", "setupplan")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Preflight (preflight.py) in the controller, before pytest-xdist starts any worker: a target that
    cannot be tested as configured ends the session with one line and exit 2, with or without -n."""
    if hasattr(config, "workerinput") or any(getattr(config.option, name, False) for name in _INSPECTING):
        return None
    from .preflight import stop_line

    line = stop_line(resolved_config(config))
    if line is None:
        return None
    config.stash[PREFLIGHT_STOPPED] = line
    sys.stderr.write(line + "\n")
    return PREFLIGHT_FAILED


# --- collection: check definitions, slow checks, capabilities ---------------------------------------


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group markers we add
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    owners: dict[str, str] = {}
    problems: list[str] = []
    for item in items:
        try:
            info = check_info(item)
        except CheckDefinitionError as exc:
            problems.append(str(exc))
            continue
        if info is None:
            continue
        item.stash[CHECK] = info
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
        function_id = item.nodeid.split("[")[0]
        owner = owners.setdefault(info.id, function_id)
        if owner != function_id:
            problems.append(f"check id {info.id} is used by both {owner} and {function_id}")
    if problems:
        raise pytest.UsageError("badly defined checks:\n  " + "\n  ".join(problems))
    wanted = set(config.getoption("only_checks"))
    if wanted:
        unknown = wanted - set(owners)
        if unknown:
            raise pytest.UsageError(f"--check: no such check: {', '.join(sorted(unknown))}")
        keep = [i for i in items if getattr(i.stash.get(CHECK, None), "id", None) in wanted]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    if not config.getoption("--run-slow"):
        skip_slow = pytest.mark.skip(reason="slow check: run with --run-slow")
        for item in items:
            if item.get_closest_marker("slow"):
                item.add_marker(skip_slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    info = item.stash.get(CHECK, None)
    if info is None:
        return
    config = resolved_config(item.config)
    marker = item.get_closest_marker("dialect")
    if marker is not None and config.dialect not in marker.args:
        unsupported(f"a check of the {'/'.join(marker.args)} dialect; the target speaks {config.dialect}")
    missing = [c for c in info.capabilities if c not in config.profile.capabilities]
    if missing:
        unsupported(f"the target profile {config.profile.name!r} does not declare "
                    + ", ".join(f"the {c!r} capability" for c in missing)
                    + (f" (or the {config.dialect} dialect has no such thing)" if config.dialect != "openai" else ""))
    unset = [name for name in info.profile_fields if getattr(config.profile, name, None) is None]
    if unset:
        unsupported(f"the target profile {config.profile.name!r} declares no {', '.join(unset)}")


# --- results ----------------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    path = config.getoption("results_json")
    if hasattr(config, "workerinput"):
        # Under xdist only the controller writes: workers send it their reports and deselections.
        if path:
            config.pluginmanager.register(DeselectionRecorder(config), "assistants-conformance-deselected")
    else:
        # Always collected (the terminal summary counts rules); results.json is written only when asked.
        config.pluginmanager.register(ResultsWriter(path, config), "assistants-conformance-results")


# --- failure rendering ------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    info = item.stash.get(CHECK, None)
    exc = call.excinfo.value if call.excinfo is not None else None
    if info is None:  # not a check (a helper test of a suite): only the failure rendering applies
        if report.failed and exc is not None and outcomes.is_target_failure(exc):
            report.longrepr = _render(item, None, call.excinfo, outcomes.Outcome("fail")) or report.longrepr
        return report
    outcome = outcomes.classify(exc, info.id, passed=not report.failed)
    if outcome.status in ("unsupported", "blocked") and not report.skipped:
        # An operation the dialect lacks (raised by the client before anything is sent), or a prerequisite
        # owned by another check that failed, in the test or in a fixture it uses: this check was not
        # judged, so it is neither failed nor passed.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {outcome.reason}")
    report.user_properties.append(("check", dataclasses.asdict(info)))
    if report.when == "call" or outcome.status != "pass":  # setup/teardown passing say nothing
        report.user_properties.extend(outcome.properties())
    if report.failed and exc is not None:
        longrepr = _render(item, info, call.excinfo, outcome)
        if longrepr is not None:
            report.longrepr = longrepr
    if report.failed:
        # Plain, redacted data: user_properties travel from xdist workers to the results writer.
        report.user_properties.extend(failure_properties(exc, _recorded(item), _message_of(report)))
    return report


def pytest_report_teststatus(report, config):
    """`blocked` is a category of its own on the terminal (pytest would count it among the skipped)."""
    if dict(getattr(report, "user_properties", ())).get("outcome") == "blocked" and report.skipped:
        return "blocked", "b", ("BLOCKED", {"yellow": True})
    return None


def _render(item, info, excinfo, outcome) -> str | None:
    exc = excinfo.value
    if outcome.status == "error":
        # Our own defect: say so, keep pytest's traceback below it, never under the check's rule.
        return (f"harness error in {item.nodeid} (a defect of assistants-conformance, not a departure of the "
                f"target; please report it): {type(exc).__name__}: {exc}\n\n{outcome.traceback}")
    if isinstance(exc, ConformanceFailure):
        evidence = exc.evidence or _recorded(item)[-3:]
        return render_failure(info, exc.what, evidence)
    if isinstance(exc, TargetError):
        return render_failure(info, f"the target did not answer properly: {exc}", [])
    if isinstance(exc, AssertionError):
        # A plain assert in a check: keep pytest's explanation, add the rule and the last exchanges.
        return render_failure(info, excinfo.exconly().removeprefix("AssertionError: "), _recorded(item)[-3:])
    return None


def _recorded(item) -> list:
    return list(item.stash.get(RECORDER, []))


# --- configuration and target -----------------------------------------------------------------------


@dataclass
class Target:
    config: object  # TargetConfig with base_url and keys filled in
    server: object | None  # the ReferenceServer we started, if any
    session_id: str

    @property
    def profile(self):
        return self.config.profile


@pytest.fixture(scope="session")
def conformance_config(pytestconfig):
    return resolved_config(pytestconfig)


@pytest.fixture(scope="session")
def target(pytestconfig, conformance_config):
    """The server under test: the given URL, or the embedded reference server started for the session."""
    session_id = f"conf-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    config = conformance_config
    server = None
    if not config.base_url:
        from .launcher import LaunchError, ReferenceServer

        keys = (f"sk-conformance-{secrets.token_hex(12)}", f"sk-conformance-{secrets.token_hex(12)}")
        server = ReferenceServer(
            api_keys=keys,
            faults=tuple(pytestconfig.getoption("reference_fault")),
            run_expiry_seconds=config.profile.expiry_window_seconds,
            token_delay_ms=pytestconfig.getoption("reference_token_delay_ms"),
            extra_args=config.profile.reference_server_args(),  # the profile's upload limit, day, index delay
        )
        try:
            server.start()
        except LaunchError as exc:
            pytest.exit(f"assistants-conformance: could not start the reference server: {exc}", returncode=2)
        # The server's root: each dialect adds its own prefix (/v1, or /openai for azure).
        config = config.with_target(server.root_url, api_key=keys[0], second_api_key=keys[1])
    try:
        yield Target(config=config, server=server, session_id=session_id)
    finally:
        if server is not None:
            server.close()


@pytest.fixture
def recorder(request) -> list:
    """Every exchange of this test, redacted: the evidence shown when the check fails."""
    exchanges: list = []
    request.node.stash[RECORDER] = exchanges
    return exchanges


def _client(target, recorder, **kw):
    return ConformanceClient(target.config, recorder=recorder, **kw)


@pytest.fixture
def client(target, recorder):
    """A client with the target's API key."""
    with _client(target, recorder) as c:
        yield c


@pytest.fixture
def second_client(target, recorder):
    """A client with the second API key (isolation checks); skips without one."""
    if not target.config.second_api_key:
        unsupported("no second API key (--second-api-key) for isolation checks")
    with _client(target, recorder, api_key=target.config.second_api_key) as c:
        yield c


@pytest.fixture
def anonymous_client(target, recorder):
    """A client that sends no API key at all."""
    with _client(target, recorder, api_key=None) as c:
        yield c


@pytest.fixture
def profile(target):
    return target.profile


@pytest.fixture
def factory(target, client, request):
    """Creates tagged objects on the target and deletes at teardown exactly those the test did not delete
    itself. A cleanup problem is a CleanupWarning in the warnings summary, never an error of the test."""
    from .flows import Factory, warn_cleanup

    made = Factory(client=client, session_id=target.session_id, model=target.profile.model)
    yield made
    warn_cleanup(made.cleanup(), request.node.nodeid)


@pytest.fixture(scope="session")
def contract(conformance_config):
    """Our contract with the dialect's overlays (specs/overlays/) applied; a --spec document is used as
    given (it must describe the dialect itself)."""
    from .spec import load_contract

    config = conformance_config
    if config.spec_path:
        return load_contract(config.spec_path)
    return load_contract(overlays=dialect_for(config).overlays, variables={"api_version": config.api_version or ""})


@pytest.fixture(scope="session")
def grammar():
    from .protocol.grammar import load_grammar

    return load_grammar()

