"""The judging proxy: forwards an application's traffic to a target unchanged and judges every exchange
with the oracle (contract, stream grammar and rules, run transitions, the lock history checker).

    app.py        ASGI forwarding app (bytes pass through as they arrive) + the judging queue beside it
    exchange.py   Observed: one exchange as the judges see it (live or replayed from HAR)
    routes.py     request path -> contract operation and path parameters
    judge.py      Judge: the judges of one exchange (answers, errors, streams) feeding the state
    state.py      bounded per-run and per-thread state: transitions, terminal runs, lock histories
    findings.py   Findings: findings per check id (capped evidence) -> results.json records
    rules.py      the proxy's rules and the check id of each
    har.py        --record (HAR writer) and HAR reading for `judge`
    cli.py        `assistants-conformance proxy` and `assistants-conformance judge`
"""
