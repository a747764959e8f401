"""pytest plugin loaded by `run --level core` (`-p assistants_conformance.reports.levels`): keeps the
MUST checks only. Loaded with -p so that pytest-xdist workers load it too."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("assistants-conformance").addoption(
        "--conformance-level", choices=("core", "full"), default="full",
        help="core: run only MUST checks (used by `assistants-conformance run --level core`).")


@pytest.hookimpl(trylast=True)  # after the plugin has read the check markers
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    if config.getoption("conformance_level") != "core":
        return
    from ..checks import CheckDefinitionError, check_info

    keep, drop = [], []
    for item in items:
        try:
            info = check_info(item)
        except CheckDefinitionError:
            info = None  # the plugin has already refused badly marked checks
        (keep if info is not None and info.level == "MUST" else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
