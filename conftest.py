"""Makes the harness usable from a clone without installing it: puts src/ on the path and loads the
pytest plugin (when the package is installed, its entry point has already loaded it and this is a no-op)."""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

pytest_plugins = ["assistants_conformance.pytest_plugin"]
