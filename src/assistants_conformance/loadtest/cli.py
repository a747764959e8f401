"""`assistants-conformance load`: one headless Locust run of a profile, against --target-url or the
embedded reference server (started for the run and stopped after), with the report folder and an exit
code for CI:

  0  no failures, no conformance violations
  1  conformance violations under load (the check ids are printed: LOAD-001 ...)
  2  usage error, or the run could not be started
  3  request failures only (target down, errors, timeouts), no violation
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..wire.config import ConfigError, resolve_config
from ..launcher import LaunchError, ReferenceServer
from ..wire.redact import redact_url
from .profiles import NEEDS, OPEN_LOOP_PROFILES, PROFILES, SHAPES, classes_for
from .report import PROGRESS_PREFIX, SUMMARY, summary_lines

HERE = Path(__file__).resolve().parent
LOCUSTFILE, OPENLOOP_LOCUSTFILE = HERE / "locustfile.py", HERE / "openloop_locustfile.py"
PROGRESS_SECONDS = 5.0  # default interval of the progress lines


def _number(kind, *, minimum: float, inclusive: bool):
    """An argparse type: a number of `kind` above `minimum` (or at it when `inclusive`); else a usage error."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {'>=' if inclusive else '>'} {minimum:g}")
        return value
    return convert


POSITIVE_INT, POSITIVE = _number(int, minimum=0, inclusive=False), _number(float, minimum=0, inclusive=False)
NON_NEGATIVE_INT, NON_NEGATIVE = _number(int, minimum=0, inclusive=True), _number(float, minimum=0, inclusive=True)


def parse_duration(text: str) -> float:
    parts = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?", text.strip())
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"{text!r}: use forms like 30s, 2m, 1m30s")
    h, m, s = parts.groups()
    seconds = int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be longer than 0 s")
    return seconds


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistants-conformance load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="mixed", choices=sorted(PROFILES), help="load profile (default mixed)")
    p.add_argument("--users", type=POSITIVE_INT, default=10, metavar="N",
                   help="concurrent users (default %(default)s; with --shape its peak, with --arrival-rate the "
                        "dispatchers)")
    p.add_argument("--spawn-rate", type=POSITIVE, default=10.0, metavar="R",
                   help="users started per second (default %(default)g)")
    p.add_argument("--run-time", type=parse_duration, default=30.0, metavar="DURATION",
                   help="how long to run, e.g. 30s, 2m, 1m30s (default 30s)")
    p.add_argument("--target-url", metavar="URL", help="API base URL; default: the embedded reference server")
    p.add_argument("--api-key", metavar="KEY", help="default: OPENAI_API_KEY")
    p.add_argument("--target-profile", metavar="NAME",
                   help="target profile (specs/profiles); default reference for the embedded server, else openai")
    p.add_argument("--report-dir", default=None, metavar="DIR", help="default: ./load-report/<profile>-<time>")
    p.add_argument("--warmup", type=NON_NEGATIVE, default=0.0, metavar="S",
                   help="seconds at the start left out of the figures (default 0)")
    p.add_argument("--shape", choices=sorted(SHAPES), help="ramp/step/spike up to --users over --run-time")
    p.add_argument("--arrival-rate", type=POSITIVE, metavar="R",
                   help="open loop: runs started per second (polling, streaming, tools); --users = dispatchers")
    p.add_argument("--arrival", choices=("constant", "poisson"), default="constant",
                   help="open loop: arrivals evenly spaced or a Poisson process (default constant)")
    p.add_argument("--workers", type=NON_NEGATIVE_INT, default=0, metavar="N",
                   help="distributed: a master and this many local worker processes (default 0: one process)")
    p.add_argument("--token-delay-ms", type=NON_NEGATIVE_INT, default=5, metavar="MS",
                   help="embedded server: delay per streamed token (default %(default)s)")
    p.add_argument("--progress-seconds", type=POSITIVE, default=PROGRESS_SECONDS, metavar="S",
                   help="a progress line this often (default %(default)g)")
    p.add_argument("--verbose", action="store_true", help="show Locust's own output")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on a usage error (2, after saying why)
        return int(exc.code or 0)
    seconds = args.run_time
    if args.warmup >= seconds:
        print(f"error: --warmup {args.warmup:g} s leaves nothing of --run-time {seconds:g} s to measure", file=sys.stderr)
        return 2
    if args.arrival_rate is not None and args.profile not in OPEN_LOOP_PROFILES:
        print("error: open loop (--arrival-rate) runs the polling, streaming or tools profile", file=sys.stderr)
        return 2
    report_dir = Path(args.report_dir or f"load-report/{args.profile}-{time.strftime('%Y%m%d-%H%M%S')}")
    server = None
    target, target_profile = args.target_url, args.target_profile
    if not target:
        server = ReferenceServer(token_delay_ms=args.token_delay_ms)
        try:
            server.start()
        except LaunchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        target, target_profile = server.base_url, target_profile or "reference"
    try:
        code = _run(args, seconds, target, target_profile, report_dir)
    finally:
        if server is not None:
            server.close()
    return code


def _run(args, seconds: float, target: str, target_profile: str | None, report_dir: Path) -> int:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / SUMMARY).unlink(missing_ok=True)
    env = dict(os.environ)
    if args.api_key:
        env["OPENAI_API_KEY"] = args.api_key
    env.pop("LOAD_SHAPE", None)
    common = ["--host", target, "--report-dir", str(report_dir), "--warmup", str(args.warmup),
              "--progress-seconds", str(args.progress_seconds)]
    if target_profile:
        common += ["--conformance-profile", target_profile]
    if args.arrival_rate is not None:
        locustfile = OPENLOOP_LOCUSTFILE
        common += ["--arrival-rate", str(args.arrival_rate), "--arrival", args.arrival,
                   "--open-loop-profile", args.profile, "--open-loop-users", str(args.users)]
        classes: list[str] = []
    else:
        locustfile = LOCUSTFILE
        classes = _classes(args.profile, target, target_profile, env)
        if classes is None:
            return 2
    if args.shape:
        env["LOAD_SHAPE"] = args.shape
        common += ["--shape-users", str(args.users), "--shape-seconds", str(seconds)]
    base = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    master = base + common + ["--headless", "-u", str(args.users), "-r", str(args.spawn_rate),
                              "-t", f"{seconds:g}s", "--exit-code-on-error", "3", "--stop-timeout", "0",
                              "--html", str(report_dir / "locust.html"), "--csv", str(report_dir / "locust"),
                              "--only-summary"] + classes
    workers: list[subprocess.Popen] = []
    log = open(report_dir / "locust.log", "w")
    out = None if args.verbose else log
    try:
        if args.workers > 0:
            port = _free_port()
            master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                       "--expect-workers", str(args.workers), "--expect-workers-max-wait", "20"]
        proc = subprocess.Popen(master, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        for _ in range(args.workers):
            workers.append(subprocess.Popen(base + common + ["--worker", "--master-host", "127.0.0.1",
                                                             "--master-port", str(port)] + classes,
                                            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        print(f"load: {args.profile} against {redact_url(target)}, {args.users} users for {seconds:g} s"
              + (f" ({args.workers} workers)" if args.workers else "") + f"; report in {report_dir}", flush=True)
        bound = seconds + 60 + (20 if args.workers else 0)  # start-up, final reports and report writing
        if _relay(proc, log, verbose=args.verbose, deadline=time.monotonic() + bound):
            rc = proc.wait(timeout=10)
        else:
            proc.kill()
            proc.wait(timeout=10)
            print(f"error: locust did not finish within {bound:g} s; killed (see {report_dir / 'locust.log'})",
                  file=sys.stderr)
            rc = 2
    finally:
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        log.close()
    return _verdict(report_dir, rc)


def _relay(proc: subprocess.Popen, log, *, verbose: bool, deadline: float) -> bool:
    """Copy the Locust master's output to the log until it ends, showing its progress lines (every line with
    --verbose). False if `deadline` passed first."""
    fd = proc.stdout.fileno()
    pending = b""
    with proc.stdout, selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                return False
            chunk = os.read(fd, 65536)  # raw reads: a buffered reader could hide lines from select()
            if chunk:
                *lines, pending = (pending + chunk).split(b"\n")
            else:  # the end: what is left is the last line
                lines, pending = [pending] if pending else [], b""
            for raw in lines:
                line = raw.decode(errors="replace")
                log.write(line + "\n")
                if verbose or line.startswith(PROGRESS_PREFIX):
                    print(line.removeprefix(PROGRESS_PREFIX), flush=True)
            if not chunk:
                return True


def _classes(profile: str, target: str, target_profile: str | None, env: dict) -> list[str] | None:
    """The user classes to run: `mixed` without those whose needs the target profile does not declare."""
    try:
        config = resolve_config({"target_url": target, "profile": target_profile}, env)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    capabilities = config.profile.capabilities
    classes, left_out = classes_for(profile, capabilities)
    for name in left_out:
        print(f"note: mixed runs without {name}: target profile {config.profile.name!r} lacks "
              f"{', '.join(n for n in NEEDS[name] if n not in capabilities)}")
    for name in classes:
        missing = [n for n in NEEDS.get(name, ()) if n not in capabilities]
        if missing:
            print(f"warning: target profile {config.profile.name!r} does not declare {', '.join(missing)}; "
                  f"running {name} anyway")
    return classes


def _verdict(report_dir: Path, rc: int) -> int:
    path = report_dir / SUMMARY
    if not path.exists():
        print(f"error: no load report was written (locust exit {rc}); see {report_dir / 'locust.log'}",
              file=sys.stderr)
        return 2
    summary = json.loads(path.read_text())
    for line in summary_lines(summary, report_dir):
        print(line)
    if summary["violations"]["counts"]:
        return 1
    if not summary["requests"]["count"]:
        print("  no request was made during the run")
        return 3
    if summary["failures"] or rc not in (0,):
        return 3 if rc in (0, 1, 3) else 2
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
