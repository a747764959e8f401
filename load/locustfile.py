"""Assistants API load profiles for Locust.

    locust -f load/locustfile.py --host http://127.0.0.1:8000/v1 --conformance-profile reference
    locust -f load/locustfile.py --host URL --headless -u 20 -r 5 -t 30s StreamingUser   # one profile by class
    locust -f load/locustfile.py --host URL --headless -u 20 -r 5 -t 30s --tags tools     # ... or by tag
    LOAD_SHAPE=ramp locust -f load/locustfile.py --host URL --headless --shape-users 50 --shape-seconds 60

Classes/tags: PollingUser/polling, StreamingUser/streaming, ToolsUser/tools, ContentionUser/contention,
CrudUser/crud, FilesUser/files; no class given = mixed (by weight). The code lives in assistants_conformance.loadtest.
"""

from assistants_conformance.loadtest.locustfile import *  # noqa: F401,F403
from assistants_conformance.loadtest.locustfile import (  # noqa: F401 - explicit for Locust's class scan
    ContentionUser, CrudUser, FilesUser, PollingUser, StreamingUser, ToolsUser)
