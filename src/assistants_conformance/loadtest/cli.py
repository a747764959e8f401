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
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..config import ConfigError, resolve_config
from ..launcher import LaunchError, ReferenceServer
from .checks import ALL
from .profiles import NEEDS, OPEN_LOOP_PROFILES, PROFILES, SHAPES, classes_for
from .report import SUMMARY

HERE = Path(__file__).resolve().parent
LOCUSTFILE, OPENLOOP_LOCUSTFILE = HERE / "locustfile.py", HERE / "openloop_locustfile.py"
SHOWN = ("time_to_first_event", "time_to_first_text_delta", "event_gap", "time_to_done", "run_end_to_end",
         "requires_action_round_trip", "polls_per_run", "usage_completion_tokens", "time_to_indexed",
         "file_search_run_end_to_end")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistants-conformance load", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="mixed", choices=sorted(PROFILES), help="load profile (default mixed)")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--spawn-rate", type=float, default=10.0)
    p.add_argument("--run-time", default="30s", help="e.g. 30s, 2m, 1m30s")
    p.add_argument("--target-url", help="API base URL; default: the embedded reference server")
    p.add_argument("--api-key", help="default: OPENAI_API_KEY")
    p.add_argument("--target-profile", help="target profile (specs/profiles); default reference for the "
                                             "embedded server, else openai")
    p.add_argument("--report-dir", default=None, help="default: ./load-report/<profile>-<time>")
    p.add_argument("--warmup", type=float, default=0.0, help="seconds left out of the figures")
    p.add_argument("--shape", choices=sorted(SHAPES), help="ramp/step/spike up to --users over --run-time")
    p.add_argument("--arrival-rate", type=float, help="open loop: runs started per second (polling, streaming, "
                                                      "tools); --users = dispatchers")
    p.add_argument("--arrival", choices=("constant", "poisson"), default="constant")
    p.add_argument("--workers", type=int, default=0, help="distributed: a master and this many local workers")
    p.add_argument("--token-delay-ms", type=int, default=5, help="embedded server: delay per streamed token")
    p.add_argument("--verbose", action="store_true", help="show Locust's own output")
    return p


def parse_duration(text: str) -> float:
    parts = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?", text.strip())
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"--run-time {text!r}: use forms like 30s, 2m, 1m30s")
    h, m, s = parts.groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        seconds = parse_duration(args.run_time)
    except argparse.ArgumentTypeError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
    common = ["--host", target, "--report-dir", str(report_dir), "--warmup", str(args.warmup)]
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
        proc = subprocess.Popen(master, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for _ in range(args.workers):
            workers.append(subprocess.Popen(base + common + ["--worker", "--master-host", "127.0.0.1",
                                                             "--master-port", str(port)] + classes,
                                            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        bound = seconds + 60 + (20 if args.workers else 0)  # start-up, final reports and report writing
        try:
            rc = proc.wait(timeout=bound)
        except subprocess.TimeoutExpired:
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
    rows = {(r["kind"], r["name"]): r for r in summary["figures"]}
    print(f"load report: {report_dir}  (exact percentiles, ms; warm-up {summary['warmup_seconds']:g} s excluded)")
    print(f"  {'metric':<30}{'count':>8}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}")
    for (kind, name), r in sorted(rows.items(), key=lambda kv: (kv[0][0] in ("METRIC", "COUNT"), kv[0])):
        if kind in ("METRIC", "COUNT") and name not in SHOWN:
            continue
        cells = "".join(f"{_num(r[k]):>9}" for k in ("p50", "p90", "p99", "p99.9", "max"))
        print(f"  {(name if kind in ('METRIC', 'COUNT') else kind + ' ' + name)[:29]:<30}{r['count']:>8}{cells}")
    titles = {c.check_id: c.title for c in ALL}
    violations = summary["violations"]
    for failure in summary["failures"]:
        if failure["method"] != "CHECK":
            print(f"  failure x{failure['occurrences']}: {failure['method']} {failure['name']}: {failure['error']}")
    if violations["counts"]:
        for check_id, n in sorted(violations["counts"].items()):
            first = next((v["message"] for v in violations["first"] if v["check_id"] == check_id), "")
            print(f"VIOLATION {check_id} ({titles.get(check_id, '')}) x{n}: {first[:300]}")
        return 1
    if not any(r["kind"] not in ("METRIC", "COUNT", "CHECK") for r in summary["figures"]):
        print("  no request was made during the run")
        return 3
    if summary["failures"] or rc not in (0,):
        return 3 if rc in (0, 1, 3) else 2
    return 0


def _num(value) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
