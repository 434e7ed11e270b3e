"""One llm-replay server as a child process: found, started on a free port, stopped.

The server runs in a process group of its own (npx and node under it alike), so
stopping it stops all of it: SIGTERM first (it finishes what is in flight and writes
its usage file), SIGKILL to the group if it has not exited in time.
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import List, Optional, Sequence

BIN_VARIABLE = "LLM_REPLAY_BIN"
LISTENING = re.compile(r"listening on (\S+)")


class ServerStartError(RuntimeError):
    """The server could not be found or did not start; carries its output."""


def _installed_from() -> Optional[Path]:
    """The folder `pip install ./python` was given (pip notes it in direct_url.json), when it was one."""
    try:
        from importlib.metadata import distributions
        import json
        from urllib.parse import unquote, urlparse

        # Every copy of the metadata: a build's egg-info in the source folder can come first.
        for found in distributions(name="pytest-llm-replay"):
            url = urlparse(json.loads(found.read_text("direct_url.json") or "{}").get("url", ""))
            if url.scheme == "file":
                return Path(unquote(url.path))
        return None
    except Exception:  # not installed by pip from a folder: nothing to go by
        return None


def _repository_bin() -> Optional[Path]:
    """bin/llm-replay.js of the repository this plugin sits in (an editable install) or was
    installed from (`pip install ./python` copies it away), when that repository is built."""
    starts = [Path(__file__).resolve()]
    source = _installed_from()
    if source is not None:
        starts.append(source / "pyproject.toml")
    for start in starts:
        for folder in start.parents:
            candidate = folder / "bin" / "llm-replay.js"
            if candidate.is_file() and (folder / "dist" / "index.js").is_file():
                return candidate
    return None


def _project_bin(start: Path) -> Optional[Path]:
    """node_modules/.bin/llm-replay of the project (or a folder above it)."""
    for folder in [start, *start.parents]:
        candidate = folder / "node_modules" / ".bin" / "llm-replay"
        if candidate.exists():
            return candidate
    return None


def _node_command(path: str) -> List[str]:
    if path.endswith((".js", ".mjs")):
        node = shutil.which("node")
        if node is None:
            raise ServerStartError(f"{path} needs node, which is not on PATH")
        return [node, path]
    return [path]


def server_command(project_root: Path) -> List[str]:
    """LLM_REPLAY_BIN, else the repository's own build, else the project's install, else npx."""
    given = os.environ.get(BIN_VARIABLE)
    if given:
        if not Path(given).exists() and shutil.which(given) is None:
            raise ServerStartError(f"{BIN_VARIABLE}={given} does not exist")
        return _node_command(given)
    for found in (_repository_bin(), _project_bin(project_root)):
        if found is not None:
            return _node_command(str(found))
    npx = shutil.which("npx")
    if npx is None:
        raise ServerStartError(
            f"llm-replay not found: set {BIN_VARIABLE} to its bin/llm-replay.js, "
            "or install it in this project (npm install <a clone of llm-replay>)"
        )
    return [npx, "--no-install", "llm-replay"]


def _terminate_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM when pytest dies, however it dies (a CI
    timeout's SIGKILL runs no atexit), so the server never outlives its session."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the session's own stop is the only one


class LlmReplayServer:
    """A running llm-replay server; `url` is where clients reach it."""

    def __init__(self, command: Sequence[str], args: Sequence[str], cwd: Path, start_timeout: float = 60.0):
        self.command = [*command, "serve", "--port", "0", "--host", "127.0.0.1", *args]
        self._output: List[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.url = ""
        self.process = subprocess.Popen(
            self.command,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        atexit.register(self.stop)
        # Read its output for as long as it runs: a full pipe would stall the server.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._listening.wait(start_timeout)
        if not self.url:
            code = self.process.poll()
            self._reader.join(1)
            if code is None and not self._reader.is_alive():
                # Its output ended: it exited (a refusal at start), just not reaped yet.
                try:
                    code = self.process.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            self.stop()
            why = f"exited with {code}" if code is not None else f"did not start within {start_timeout:.0f} s"
            raise ServerStartError(f"llm-replay ({' '.join(self.command)}) {why}:\n{self.output()}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf8", "replace")
            with self._lock:
                self._output.append(line)
            match = LISTENING.search(line)
            if match and not self.url:
                self.url = match.group(1)
                self._listening.set()
        self._listening.set()

    def output(self) -> str:
        """What the server printed (its start-up line, warnings, errors)."""
        with self._lock:
            return "".join(self._output)

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """SIGTERM to its process group, SIGKILL after `timeout` seconds; its exit code."""
        process = self.process
        if process.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                process.wait()
        # Anything it left in its group (a node under npx) goes with it.
        self._signal(signal.SIGKILL)
        self._reader.join(5)
        return process.returncode

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


class SharedServer:
    """A server another process started and stops (the xdist controller's, in a worker)."""

    def __init__(self, url: str):
        self.url = url

    def output(self) -> str:
        return ""

    def stop(self) -> None:
        pass

