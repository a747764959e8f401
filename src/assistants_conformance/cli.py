"""The `assistants-conformance` command."""

from __future__ import annotations

import argparse
import os
import sys


def _serve():
    from .reference.server import main

    return main


def _load():
    from .loadtest.cli import main

    return main


def _report():
    from .reports.cli import main

    return main


def _checks():
    from .catalog import main

    return main


def _proxy(name):
    from .proxy import cli

    return getattr(cli, f"{name}_main")


DELEGATED = {"serve": _serve, "load": _load, "report": _report, "checks": _checks,
             "proxy": lambda: _proxy("proxy"), "judge": lambda: _proxy("judge")}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly. Python flushes stdout again at exit, so point it
        # at /dev/null first, or that flush fails too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str]) -> int:
    # Sub-commands that own their options are imported only when asked for.
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]]()(argv[1:])
    parser = argparse.ArgumentParser(
        prog="assistants-conformance",
        description="Conformance and load testing for OpenAI Assistants API servers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", add_help=False, help="run the reference server (serve --help for options)")
    commands.add_parser("load", add_help=False, help="run a Locust load profile (load --help for options)")
    commands.add_parser("report", add_help=False, help="work with report folders (report --help)")
    commands.add_parser("checks", add_help=False, help="list the conformance checks (checks --markdown)")
    commands.add_parser("proxy", add_help=False, help="judge an application's live traffic (proxy --help)")
    commands.add_parser("judge", add_help=False, help="judge recorded traffic, a HAR file (judge --help)")
    run = commands.add_parser("run", help="run the conformance suites against a target; report folder and "
                              "exit code for CI (0 pass, 1 a check failed or, with --baseline, regressed, "
                              "2 harness/config error)")
    from .reports.run import add_arguments

    add_arguments(run)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    parser.print_help()
    return 2


def _run(args: argparse.Namespace) -> int:
    from .reports.run import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
