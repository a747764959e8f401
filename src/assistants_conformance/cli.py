"""The `assistants-conformance` command."""

from __future__ import annotations

import argparse
import sys

from .paths import suites_dir


def _serve():
    from .reference.server import main

    return main


def _load():
    from .loadtest.cli import main

    return main


def _report():
    from .reports.cli import main

    return main


DELEGATED = {"serve": _serve, "load": _load, "report": _report}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="assistants-conformance",
        description="Conformance and load testing for OpenAI Assistants API servers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", add_help=False, help="run the reference server (serve --help for options)")
    commands.add_parser("load", add_help=False, help="run a Locust load profile (load --help for options)")
    commands.add_parser("report", add_help=False, help="work with report folders (report --help)")
    run = commands.add_parser("run", help="run the conformance suites against a target; exit code for CI")
    run.add_argument("--target-url", help="API base URL (SDK base_url); default: the embedded reference server")
    run.add_argument("--api-key")
    run.add_argument("--second-api-key")
    run.add_argument("--profile", help="profile file or name in specs/profiles/")
    run.add_argument("--dialect")
    run.add_argument("--spec")
    run.add_argument("--run-slow", action="store_true")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="further pytest arguments after --")

    # Sub-commands that own their options are imported only when asked for.
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]]()(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    parser.print_help()
    return 2


def _run(args: argparse.Namespace) -> int:
    import pytest

    pytest_args = [str(suites_dir())]
    for name in ("target_url", "api_key", "second_api_key", "profile", "dialect", "spec"):
        value = getattr(args, name)
        if value:
            pytest_args += [f"--{name.replace('_', '-')}", value]
    if args.run_slow:
        pytest_args.append("--run-slow")
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    return int(pytest.main(pytest_args + extra))


if __name__ == "__main__":
    sys.exit(main())
