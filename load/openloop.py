"""Open-loop load (arrival rate fixed, latency from the intended start; no coordinated omission).

    locust -f load/openloop.py --host URL --headless -u 1 -t 30s --arrival-rate 20 --arrival poisson \
        --open-loop-profile streaming --open-loop-users 1
"""

from assistants_conformance.loadtest.openloop_locustfile import *  # noqa: F401,F403
from assistants_conformance.loadtest.openloop_locustfile import OpenLoopUser  # noqa: F401
