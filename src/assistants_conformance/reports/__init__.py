"""Reports of conformance runs: results.json (the one source), and what is rendered from it
(report.html, summary.md, junit.xml, exchanges.har, badge.svg), baselines for CI gating, comparisons.

    results.py    per-check records collected by the pytest plugin (also under pytest-xdist)
    evidence.py   failure evidence (exchanges, streams, events, text) as redacted JSON
    artifacts.py  write every file of a report folder from results.json
    baseline.py   expected statuses per check; what regressed
    compare.py    side-by-side matrix of several results.json
    run.py        `assistants-conformance run`: suites -> report folder -> exit code
    cli.py        `assistants-conformance report ...`
"""
