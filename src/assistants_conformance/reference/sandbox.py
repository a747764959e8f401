"""Run a Python program in a bounded subprocess (the code_interpreter tool of the reference model).

    result = run_python("print(1 + 1)", files={"data.csv": b"..."}, timeout_s=10, memory_mb=256)

What bounds the program:
* a fresh temporary directory as its working directory, holding the attached files by name; top-level
  files it creates or changes there become ``outputs`` (at most MAX_OUTPUT_FILES, sorted by name);
* ``python -I -S -X utf8``: isolated mode, no site-packages, no PYTHON* variables, an empty environment;
* resource limits set in the child before exec: RLIMIT_AS (memory_mb), RLIMIT_CPU (about timeout_s),
  RLIMIT_FSIZE (MAX_FILE_BYTES per file, which also bounds stdout/stderr: they go to files, not pipes),
  RLIMIT_NPROC 0 (no forking; the kernel ignores it for real root), RLIMIT_CORE 0;
* a wall-clock deadline: at timeout_s (or when ``cancel`` is set) the whole process group is killed;
* stdout/stderr are read back bounded (MAX_LOG_BYTES each, with a truncation note);
* no network: where an unprivileged network namespace can be made (``unshare -rn``, probed once), the
  program runs in an empty one: no interface but loopback, which is down. Always also a startup shim
  replaces ``socket.socket`` (and friends) with a function that raises PermissionError before the
  program runs. The shim alone is not a security boundary: ctypes or a spawned process can get around
  it. It only keeps the model's own generated programs off the network; this sandbox is not meant for
  hostile code, and the model never runs text from a user as code.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MAX_LOG_BYTES = 64 * 1024
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_OUTPUT_FILES = 20
POLL_SECONDS = 0.02
TRUNCATED_NOTE = "\n[output truncated]"

# Runs before the program: network off, then the program as __main__ (tracebacks name "<code>").
_SHIM = '''\
import socket as _socket_module, _socket
def _no_network(*args, **kwargs):
    raise PermissionError(13, "network access is disabled in the sandbox")
# Classes stay classes (ssl subclasses socket.socket); making one raises.
_socket_module.socket = type("socket", (_socket_module.socket,), {"__init__": _no_network})
_socket.socket = _socket.SocketType = type("socket", (_socket.socket,), {"__init__": _no_network})
for _module in (_socket_module, _socket):
    for _name in ("socketpair", "fromfd", "create_connection", "create_server",
                  "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        if hasattr(_module, _name):
            setattr(_module, _name, _no_network)
del _module, _name, _socket_module, _socket
import sys as _sys
with open(_sys.argv[1], encoding="utf-8") as _f:
    _code = compile(_f.read(), "<code>", "exec")
del _f, _sys
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
'''


@dataclass
class SandboxResult:
    stdout: str
    stderr: str
    exit_code: int | None          # negative: killed by that signal (subprocess convention)
    timed_out: bool
    outputs: dict[str, bytes] = field(default_factory=dict)   # filename -> bytes written by the program
    cancelled: bool = False


@lru_cache(maxsize=1)
def _netns_prefix() -> tuple[str, ...]:
    """`unshare -rn` when this machine lets us make a network namespace, else nothing (the shim remains)."""
    tool = shutil.which("unshare")
    if tool is None:
        return ()
    try:
        done = subprocess.run([tool, "-rn", "true"], capture_output=True, timeout=5, env={})
    except (OSError, subprocess.SubprocessError):
        return ()
    return (tool, "-rn") if done.returncode == 0 else ()


def network_namespace_available() -> bool:
    return bool(_netns_prefix())


def _limits(memory_mb: int, cpu_seconds: int):
    def apply() -> None:   # runs in the child between fork and exec: only setrlimit calls, no locks
        memory = memory_mb * 1024 * 1024
        for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu_seconds),
                             (resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0),
                             (getattr(resource, "RLIMIT_NPROC", None), 0)):
            if limit is not None:
                resource.setrlimit(limit, (value, value))
    return apply


def _safe_name(name: str) -> str | None:
    base = os.path.basename(name)
    return base if base not in ("", ".", "..") else None


def _read_bounded(path: Path, limit: int = MAX_LOG_BYTES) -> str:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + TRUNCATED_NOTE if len(data) > limit else text


def _collect(workdir: Path, inputs: dict[str, bytes]) -> dict[str, bytes]:
    outputs: dict[str, bytes] = {}
    for entry in sorted(os.scandir(workdir), key=lambda e: e.name):
        if len(outputs) >= MAX_OUTPUT_FILES:
            break
        if not entry.is_file(follow_symlinks=False):
            continue
        with open(entry.path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
        if inputs.get(entry.name) != data:
            outputs[entry.name] = data
    return outputs


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)   # start_new_session: the group id is the child's pid
    except ProcessLookupError:
        pass


def run_python(code: str, files: dict[str, bytes] | None = None, timeout_s: float = 10.0, memory_mb: int = 256,
               *, cancel: threading.Event | None = None) -> SandboxResult:
    """Run ``code`` bounded as described above. Blocking (call it off the event loop); always returns
    within about timeout_s + 1 s. ``cancel``: set it from another thread to kill the program early."""
    inputs = {safe: data for name, data in (files or {}).items() if (safe := _safe_name(name))}
    with tempfile.TemporaryDirectory(prefix="ac-sandbox-") as root:
        private = Path(root, "private")    # the shim, program and logs: outside the program's directory
        workdir = Path(root, "data")
        private.mkdir()
        workdir.mkdir()
        for name, data in inputs.items():
            (workdir / name).write_bytes(data)
        (private / "shim.py").write_text(_SHIM, encoding="utf-8")
        (private / "program.py").write_text(code, encoding="utf-8")
        command = [*_netns_prefix(), sys.executable, "-I", "-S", "-X", "utf8",
                   str(private / "shim.py"), str(private / "program.py")]
        timed_out = cancelled = False
        with open(private / "stdout", "wb") as out, open(private / "stderr", "wb") as err:
            proc = subprocess.Popen(command, cwd=workdir, env={}, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    close_fds=True, start_new_session=True,
                                    preexec_fn=_limits(memory_mb, int(timeout_s) + 1))
            deadline = time.monotonic() + timeout_s
            try:
                while True:
                    try:
                        proc.wait(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                    elif time.monotonic() >= deadline:
                        timed_out = True
                    else:
                        continue
                    _kill_group(proc)
                    proc.wait(timeout=5)
                    break
            finally:
                if proc.returncode is None:   # an exception above (e.g. KeyboardInterrupt): never leave it running
                    _kill_group(proc)
                    proc.wait(timeout=5)
            _kill_group(proc)   # anything the program left behind in its group
        return SandboxResult(stdout=_read_bounded(private / "stdout"), stderr=_read_bounded(private / "stderr"),
                             exit_code=proc.returncode, timed_out=timed_out, cancelled=cancelled,
                             outputs={} if (timed_out or cancelled) else _collect(workdir, inputs))
