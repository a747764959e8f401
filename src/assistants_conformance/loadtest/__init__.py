"""Locust load profiles for Assistants API targets, with the protocol oracle checking every stream and
every contended thread while the load runs. Entry points: load/locustfile.py, `assistants-conformance load`."""
