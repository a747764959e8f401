"""Load harness pieces without Locust running: exact percentiles, raw-timing merge, the SVG plot,
durations, shapes."""

import math
import xml.etree.ElementTree as ET

import pytest

from assistants_conformance.loadtest.cli import parse_duration
from assistants_conformance.loadtest.metrics import Recorder, Sample, Violation, percentile, summarize
from assistants_conformance.loadtest.plot import latency_svg
from assistants_conformance.loadtest.profiles import classes_for, ramp_users, spike_users, step_users


def test_percentiles_are_exact_nearest_rank():
    values = sorted(float(v) for v in range(1, 1001))
    assert percentile(values, 0.5) == 500
    assert percentile(values, 0.9) == 900
    assert percentile(values, 0.99) == 990
    assert percentile(values, 0.999) == 999
    assert percentile([7.0], 0.999) == 7
    assert math.isnan(percentile([], 0.5))


def test_summary_excludes_warmup_and_failures_from_timings():
    samples = [Sample("METRIC", "ttfe", at=100.0, value=1000.0),            # warm-up
               Sample("METRIC", "ttfe", at=111.0, value=5.0),
               Sample("METRIC", "ttfe", at=112.0, value=7.0),
               Sample("METRIC", "ttfe", at=113.0, value=9999.0, ok=False)]
    (row,) = summarize(samples, since=110.0)
    assert row["count"] == 3 and row["failures"] == 1
    assert row["p50"] == 5 and row["max"] == 7


def test_worker_raw_timings_merge_on_the_master():
    worker = Recorder()
    worker.add(Sample("GET", "/x", 1.0, 2.0))
    worker.add_violation(Violation("LOAD-002", "thread lock", "two runs"))
    data = worker.drain()
    assert worker.drain()["samples"] == []  # drained once
    master = Recorder()
    master.merge(data, source="worker-0")
    master.merge(data, source="worker-1")
    assert sorted(s.source for s in master.samples) == ["worker-0", "worker-1"]
    assert master.violation_counts == {"LOAD-002": 2}


def test_latency_plot_is_valid_svg():
    samples = [Sample("METRIC", "a", at=100 + i / 10, value=float(i % 17)) for i in range(300)]
    svg = latency_svg({"a": samples}, t0=100.0, warmup_end=103.0)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 2  # p50 + p99
    assert "warm-up" in svg
    ET.fromstring(latency_svg({}, t0=0.0))  # no samples: still a valid picture


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("2m", 120), ("1m30s", 90), ("5", 5), ("1.5s", 1.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_shapes():
    assert [ramp_users(t, 20, 10.0) for t in (0.0, 2.5, 5.0, 9.0)] == [1, 10, 20, 20]
    assert [step_users(t, 20, 10.0, 4) for t in (0.0, 3.0, 6.0, 9.9)] == [5, 10, 15, 20]
    assert [spike_users(t, 20, 10.0) for t in (1.0, 5.0, 8.0)] == [2, 20, 2]


def test_cli_imports_no_locust():
    """Importing locust monkey-patches the process with gevent; the CLI (and pytest) must not."""
    import subprocess
    import sys
    code = "import sys, assistants_conformance.loadtest.cli; sys.exit('locust' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 0


def test_mixed_leaves_out_what_the_target_lacks():
    everything = {"files", "vector_stores", "file_search"}
    assert "FilesUser" in classes_for("mixed", everything)[0]
    kept, left_out = classes_for("mixed", {"files", "vector_stores"})
    assert "FilesUser" not in kept and left_out == ["FilesUser"] and "PollingUser" in kept
    assert classes_for("files", set()) == (["FilesUser"], [])  # asked for by name: run, with a warning
