"""Real third-party Assistants API servers as targets of the whole suite (issue 13).

* `venvs.py`    installs each implementation, pinned, into its own virtual environment (on request).
* `targets.py`  starts each one on a free loopback port (LiteLLM in front of the reference server, Myla,
                openai-responses behind a small HTTP shim) and stops it afterwards.
* `matrix.py`   turns the runs' results.json documents into docs/implementations.md (and the compact
                docs/implementations.json it is rendered from), with the triage of every failure
                (`triage.yaml`).
* `test_implementations.py`  the on-request run: `pytest tests/implementations --implementations`.
"""
