"""How long Contract.validate takes for a typical ~2 KB run object (the hot path of every suite and stream).

    python benchmarks/bench_validation.py [--iterations 20000] [--contract PATH]

Prints the object size and median / p99 per call in microseconds, for a valid run (fast Rust path) and for
an invalid one (Python explanation path).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from assistants_conformance.spec import load_contract


def sample_run() -> dict:
    """A realistic completed run with function tools, metadata and usage: about 2 KB of JSON."""
    return {
        "id": "run_abc123def456ghi789", "object": "thread.run", "created_at": 1_716_000_000,
        "thread_id": "thread_abc123def456ghi789", "assistant_id": "asst_abc123def456ghi789",
        "status": "completed", "required_action": None, "last_error": None, "expires_at": None,
        "started_at": 1_716_000_001, "cancelled_at": None, "failed_at": None, "completed_at": 1_716_000_009,
        "model": "gpt-4o", "instructions": "You are a careful assistant. Answer briefly and cite the files. " * 10,
        "tools": [
            {"type": "code_interpreter"},
            {"type": "file_search", "file_search": {"max_num_results": 20,
                                                    "ranking_options": {"ranker": "auto", "score_threshold": 0.5}}},
            {"type": "function", "function": {
                "name": "get_weather", "description": "Current weather for a city.", "strict": False,
                "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                                "unit": {"type": "string", "enum": ["c", "f"]}},
                               "required": ["city"]}}},
        ],
        "metadata": {"customer": "acme-industries", "ticket": "T-1234567", "priority": "high", "region": "eu-west"},
        "usage": {"prompt_tokens": 1234, "completion_tokens": 321, "total_tokens": 1555},
        "temperature": 1.0, "top_p": 1.0, "incomplete_details": None,
        "max_prompt_tokens": 4096, "max_completion_tokens": 1024,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "tool_choice": "auto", "parallel_tool_calls": True, "response_format": "auto",
    }


def measure(fn, iterations: int) -> tuple[float, float]:
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99) - 1] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--contract", default=None)
    args = parser.parse_args()

    contract = load_contract(args.contract)
    run = sample_run()
    assert contract.validate("getRun", 200, run) == [], contract.validate("getRun", 200, run)
    broken = dict(run, status="finished", started_at="soon")
    assert contract.validate("getRun", 200, broken), "the broken run must not validate"

    size = len(json.dumps(run))
    median, p99 = measure(lambda: contract.validate("getRun", 200, run), args.iterations)
    print(f"valid run object ({size} bytes): median {median:.1f} us, p99 {p99:.1f} us ({args.iterations} calls)")
    slow_iterations = max(args.iterations // 20, 100)
    median, p99 = measure(lambda: contract.validate("getRun", 200, broken), slow_iterations)
    print(f"invalid run object (2 issues):   median {median:.1f} us, p99 {p99:.1f} us ({slow_iterations} calls)")


if __name__ == "__main__":
    main()
