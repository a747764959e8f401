"""Where the project's data lives.

specs/ sits at the top of a clone (next to src/). When the package is installed from a clone in
editable mode that path is found from this file; ASSISTANTS_CONFORMANCE_SPECS overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent


def specs_dir() -> Path:
    override = os.environ.get("ASSISTANTS_CONFORMANCE_SPECS")
    if override:
        return Path(override)
    return PROJECT_DIR / "specs"


def suites_dir() -> Path:
    return PROJECT_DIR / "suites"
