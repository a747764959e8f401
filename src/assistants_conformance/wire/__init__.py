"""The harness's side of the wire: the target's configuration and profile (config.py), the dialects'
URLs and headers (dialects.py), the bounded HTTP client that records every exchange (client.py), the
incremental SSE reader (sse.py) and the redaction of secrets in everything recorded (redact.py)."""
