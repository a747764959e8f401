"""`python -m assistants_conformance.reference [options]` runs the reference server."""

import sys

from .server import main

sys.exit(main())
