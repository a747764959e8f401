"""One virtual environment per third-party implementation, installed on request from PyPI, pinned.

Each implementation names exact `pip install` steps; every step runs with the implementation's own
constraints file (constraints/<name>.txt, a `pip freeze` of a working install), so its dependencies are
pinned too. Environments live in `<checkout>/.implementations/<name>-<version>/` (git-ignored; or under
$ASSISTANTS_CONFORMANCE_IMPLEMENTATIONS_DIR) and are reused while their steps are unchanged: a
fingerprint of the steps and constraints is written once the install has succeeded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from assistants_conformance.paths import PROJECT_DIR

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "constraints"
INSTALL_TIMEOUT = 1200.0   # seconds for one pip step (litellm[proxy] has ~120 packages)
READY = ".installed"       # holds the fingerprint of a finished install


class InstallError(RuntimeError):
    """An implementation could not be installed; the message ends with pip's last lines."""


def cache_dir() -> Path:
    return Path(os.environ.get("ASSISTANTS_CONFORMANCE_IMPLEMENTATIONS_DIR") or PROJECT_DIR / ".implementations")


def fingerprint(steps: tuple[tuple[str, ...], ...], constraints: Path) -> str:
    digest = hashlib.sha256(repr(steps).encode())
    digest.update(constraints.read_bytes())
    return digest.hexdigest()[:16]


def ensure_venv(name: str, version: str, steps: tuple[tuple[str, ...], ...]) -> Path:
    """The implementation's environment (installed now if missing or stale); returns its bin/ folder."""
    root = cache_dir() / f"{name}-{version}"
    constraints = CONSTRAINTS / f"{name}.txt"
    wanted = fingerprint(steps, constraints)
    marker = root / READY
    bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
    if marker.is_file() and marker.read_text().strip() == wanted:
        return bin_dir
    if root.exists():
        shutil.rmtree(root)
    _run([sys.executable, "-m", "venv", str(root)], f"{name}: creating the virtual environment")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "-c", str(constraints)]
    for step in steps:
        _run(pip + list(step), f"{name}: pip install {' '.join(step)}")
    marker.write_text(wanted + "\n")
    return bin_dir


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InstallError(f"{what}: no result within {INSTALL_TIMEOUT:g} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise InstallError(f"{what}: exit status {done.returncode}\n{tail}")
