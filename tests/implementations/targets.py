"""The known third-party implementations, each started on a free loopback port and stopped afterwards.

    with IMPLEMENTATIONS["myla"].start(workdir) as running:
        pytest suites --target-url running.base_url --api-key running.api_key --profile running.profile

Every process listens on 127.0.0.1 only, with nothing in its environment that points anywhere else (no
OPENAI_* variables, LiteLLM's bundled model-cost map instead of the one it would fetch), writes its
output to a log file in `workdir`, and is stopped (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import yaml

from assistants_conformance.wire.client import ConformanceClient
from assistants_conformance.wire.config import load_profile, resolve_config
from assistants_conformance.flows import Factory, stream_checked
from assistants_conformance.launcher import ReferenceServer, stop_process
from assistants_conformance.paths import specs_dir
from assistants_conformance.protocol.grammar import load_grammar

from . import venvs

START_TIMEOUT = 120.0   # LiteLLM imports for ~20 s on a loaded 2-core machine
HERE = Path(__file__).resolve().parent


class StartError(RuntimeError):
    """An implementation did not come up; the message shows the end of its log."""


@dataclass
class Running:
    base_url: str                   # the API base, as --target-url
    api_key: str
    second_api_key: str | None
    profile: Path
    logs: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Implementation:
    name: str
    version: str
    how: str                        # one line for docs/implementations.md: how it is installed and started
    steps: tuple[tuple[str, ...], ...]
    launch: Callable[["Implementation", Path, Path, contextlib.ExitStack], Running]
    # Extra observations on the running server, one line each, shown under its row (e.g. its own stream format).
    probe: Callable[[Running], list[str]] | None = None

    @property
    def profile(self) -> Path:
        return specs_dir() / "profiles" / f"{self.name}.yaml"

    def install(self) -> Path:
        return venvs.ensure_venv(self.name, self.version, self.steps)

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[Running]:
        bin_dir = self.install()
        if workdir.exists():  # every run starts from empty stores (Myla's users, the reference database)
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        with contextlib.ExitStack() as stack:
            yield self.launch(self, bin_dir, workdir, stack)


# --- processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that names another server or credential."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AZURE_", "ASSISTANTS_CONFORMANCE_", "LITELLM_", "HTTP_PROXY",
                                "HTTPS_PROXY", "http_proxy", "https_proxy"))}
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost", **extra)
    return env


def spawn(stack: contextlib.ExitStack, command: list[str], workdir: Path, log_name: str,
          env: dict[str, str], ready_url: str) -> Path:
    """Start `command`, stop it when `stack` closes, and wait until `ready_url` answers any HTTP status."""
    log = workdir / log_name
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
    stack.callback(stop_process, proc, timeout=15.0)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise StartError(f"{command[0]} exited with status {proc.returncode}: {_tail(log)}")
        try:
            httpx.get(ready_url, timeout=2.0)
            return log
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise StartError(f"{command[0]} not answering {ready_url} after {START_TIMEOUT:g} s: {_tail(log)}")
        time.sleep(0.5)


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- LiteLLM proxy in front of the reference server ----------------------------------------------------


def launch_litellm(impl: Implementation, bin_dir: Path, workdir: Path, stack: contextlib.ExitStack) -> Running:
    """The reference server (clean, on its own port, with the profile's expiry window), and LiteLLM's
    proxy passing the Assistants API to it through `assistant_settings` (custom_llm_provider openai,
    api_base = the reference server's /v1). LiteLLM's master key is the one key callers have; the
    reference server's key is known only to LiteLLM."""
    profile = load_profile(str(impl.profile))
    upstream_key = f"sk-upstream-{secrets.token_hex(12)}"
    reference = ReferenceServer(api_keys=(upstream_key,), run_expiry_seconds=profile.expiry_window_seconds,
                                token_delay_ms=2, db_path=str(workdir / "reference.sqlite3"),
                                log_path=str(workdir / "reference.log"))
    reference.start()
    stack.callback(reference.close)
    upstream = {"api_base": reference.base_url, "api_key": upstream_key}
    master_key = f"sk-litellm-{secrets.token_hex(12)}"
    config = {
        "model_list": [{"model_name": profile.model,
                        "litellm_params": {"model": f"openai/{profile.model}", **upstream}}],
        "assistant_settings": {"custom_llm_provider": "openai", "litellm_params": upstream},
        "general_settings": {"master_key": master_key},
    }
    config_path = workdir / "litellm-config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    env = clean_env(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_TELEMETRY="False", HF_HUB_OFFLINE="1")
    log = spawn(stack, [str(bin_dir / "litellm"), "--config", str(config_path), "--host", "127.0.0.1",
                        "--port", str(port)], workdir, "litellm.log", env,
                f"http://127.0.0.1:{port}/health/liveliness")
    return Running(f"http://127.0.0.1:{port}/v1", master_key, None, impl.profile,
                   [log, Path(reference.log_path or "")])


# --- Myla --------------------------------------------------------------------------------------------

MYLA_ADMIN = ("admin", "admin")   # the super user Myla creates in an empty user store


def launch_myla(impl: Implementation, bin_dir: Path, workdir: Path, stack: contextlib.ExitStack) -> Running:
    """Myla with its built-in mock model (DEFAULT_LLM_MODEL_NAME=mock@mock: it answers with the last
    message) and SQLite in `workdir`. Keys come from Myla's own user store: its default super user's,
    and a second user's (created by the super user), each from POST /api/v1/users/{name}/login."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = clean_env(DEFAULT_LLM_MODEL_NAME="mock@mock", DATABASE_URL=f"sqlite:///{workdir / 'myla.db'}")
    log = spawn(stack, [str(bin_dir / "python"), "-m", "myla", "--host", "127.0.0.1", "--port", str(port),
                        "--data", str(workdir / "data"), "--env-file", str(workdir / "no.env")],
                workdir, "myla.log", env, f"{root}/api/version")
    api = f"{root}/api/v1"
    with httpx.Client(base_url=api, timeout=10.0) as http:
        first = _myla_login(http, *MYLA_ADMIN)
        second_user = ("conformance-second", secrets.token_hex(8))
        made = http.post("/users", json={"username": second_user[0], "password": second_user[1]},
                         headers={"Authorization": f"Bearer {first}"})
        if made.status_code != 200:
            raise StartError(f"myla: creating a second user: {made.status_code} {made.text[:200]}")
        second = _myla_login(http, *second_user)
    return Running(api, first, second, impl.profile, [log])


def probe_myla_stream(running: Running) -> list[str]:
    """Myla streams only with `?stream=true` (the suites send `stream: true` in the body, as documented,
    and get a JSON run): read that stream once as the streaming checks read theirs and say in one line
    what is wrong with it."""
    config = resolve_config({"target_url": running.base_url, "api_key": running.api_key,
                             "profile": str(running.profile)}, {})
    with ConformanceClient(config) as client:
        factory = Factory(client=client, session_id=f"probe-{secrets.token_hex(4)}", model=config.profile.model)
        try:
            assistant, thread = factory.assistant(), factory.thread()
            factory.message(thread["id"], "Say hello.")
            stream = stream_checked(client, f"/threads/{thread['id']}/runs?stream=true",
                                    {"assistant_id": assistant["id"]}, kind="create_run", grammar=load_grammar())
        finally:
            factory.cleanup()
    result = stream.result
    automaton = load_grammar().start("create_run")   # unknown event names count here (the checks skip them)
    order = [problem for name in result.names() if (problem := automaton.feed(name, unknown="reject"))]
    order = "; ".join(order + [automaton.finish() or ""]).strip("; ") or "none"
    return [f"Myla's own stream (POST /threads/{{thread_id}}/runs?stream=true): HTTP {result.status_code}, "
            f"{result.headers.get('content-type', '(no content type)')}, reader verdict {result.verdict.value}: "
            f"{result.message}; against the stream grammar: {order}; events: "
            f"{' '.join(str(n) for n in result.names())}"]


def _myla_login(http: httpx.Client, username: str, password: str) -> str:
    answer = http.post(f"/users/{username}/login", json={"username": username, "password": password})
    if answer.status_code != 200:
        raise StartError(f"myla: login as {username}: {answer.status_code} {answer.text[:200]}")
    return answer.json()["secret_key"]["id"]


# --- openai-responses behind an HTTP shim --------------------------------------------------------------


def launch_openai_responses(impl: Implementation, bin_dir: Path, workdir: Path,
                            stack: contextlib.ExitStack) -> Running:
    """openai-responses' OpenAIMock served by openai_responses_shim.py (see there). The mock checks no
    key: any key is accepted, so there is no second one to isolate."""
    port = free_port()
    log = spawn(stack, [str(bin_dir / "python"), str(HERE / "openai_responses_shim.py"), "--port", str(port)],
                workdir, "openai-responses.log", clean_env(), f"http://127.0.0.1:{port}/v1/models")
    return Running(f"http://127.0.0.1:{port}/v1", f"sk-any-{secrets.token_hex(8)}", None, impl.profile, [log])


IMPLEMENTATIONS: dict[str, Implementation] = {impl.name: impl for impl in (
    Implementation(
        "litellm", "1.106.12",
        "PyPI `litellm[proxy]==1.106.12` (the newest whose proxy extra installs from PyPI alone); "
        "`litellm --config` with `assistant_settings` (openai, api_base = a clean reference server)",
        (("litellm[proxy]==1.106.12",),), launch_litellm),
    Implementation(
        "myla", "0.2.40",
        "PyPI `myla==0.2.40 --no-deps` plus its web dependencies (no sentence-transformers, faiss); "
        "`python -m myla`, mock model `mock@mock`, keys from its user store",
        (("--no-deps", "myla==0.2.40"),
         ("uvicorn", "starlette", "fastapi", "python-dotenv", "jinja2", "aiohttp", "sqlmodel", "openai",
          "python-multipart", "aiofiles", "Authlib", "itsdangerous", "httpx", "pandas")),
        launch_myla, probe_myla_stream),
    Implementation(
        "openai-responses", "0.13.1",
        "PyPI `openai-responses==0.13.1`; its OpenAIMock behind tests/implementations/openai_responses_shim.py "
        "(standard-library HTTP server)",
        (("openai-responses==0.13.1",),), launch_openai_responses),
)}
