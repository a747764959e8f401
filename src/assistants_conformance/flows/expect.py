"""Fail a check unless an answer is the documented error (status, envelope, param)."""

from __future__ import annotations

from ..checks import violation
from ..protocol.errors import error_envelope_problems, names_field


def expect_error(response, status: int, param: str | None = None, *, sent: str | None = None) -> dict:
    """Fail the check unless `response` has HTTP `status` and a well-formed error envelope, and (with
    `param`) error.param names that field or a path inside it. `sent` says what was sent, for the
    failure message (e.g. "name = a 257-character string"). Returns the error object."""
    wanted = f"{status}" + (f" with error.param naming {param!r}" if param else "")
    prefix = f"for {sent}: " if sent else ""
    if response.status_code != status:
        violation(f"{prefix}expected {wanted}, got {response.status_code}", [response.exchange])
    problems = error_envelope_problems(response.json)
    if problems:
        violation(f"{prefix}the {status} answer is not in the error envelope: {'; '.join(problems)}",
                  [response.exchange])
    error = response.json["error"]
    if param is not None and not names_field(error.get("param"), param):
        violation(f"{prefix}expected {wanted}, got error.param {error.get('param')!r}", [response.exchange])
    return error
