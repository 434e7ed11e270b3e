"""The pytest plugin: one llm-replay server per session (per xdist worker; in record
mode the workers share the controller's, as one record server holds a directory), each
test's id and run scope in its clients' base URLs, a test that had a replay miss fails
with the miss report, even when the code under test swallowed the error, and in the
record modes the terminal summary lists what was passed on but not written.
"""

import os
import uuid
from pathlib import Path
from typing import List, Optional, Sequence

import pytest

from .admin import Admin
from .hints import in_plugin_terms
from .keys import PLACEHOLDER_KEY, refuse_placeholder_keys
from .not_recorded import WORKER_OUTPUT, NotRecorded, summary
from .server import LlmReplayServer, ServerStartError, SharedServer, server_command
from .test_id import base_url_for

MODES = ("replay", "record", "record-if-missing", "live")
RECORDING_MODES = ("record", "record-if-missing")
RUN_VARIABLE = "LLM_REPLAY_RUN"
URL_VARIABLE = "LLM_REPLAY_URL"
# Each SDK's base-URL variable and the route prefix it goes through when the server has that route
# (runner-env.ts's SDK_BASE_URLS for the Node helpers): OpenAI's paths are the default upstream's.
SDK_ROUTES = (("ANTHROPIC_BASE_URL", "/anthropic"), ("OLLAMA_HOST", "/ollama"))
MARKER = "llm_replay"
SHARED_URL = "llm_replay_shared_url"

_STATE = pytest.StashKey["_Session"]()
# What xdist workers found not recorded, gathered in the controller for its summary.
_FROM_WORKERS = pytest.StashKey[list]()


class MissError(AssertionError):
    """The test's requests had no recording (or went past the recorded occurrences)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-replay", "llm-replay: record and replay LLM API calls")
    group.addoption("--llm-replay-mode", choices=MODES, default=None, help="replay (default), record, record-if-missing or live (env LLM_REPLAY_MODE)")
    group.addoption("--llm-replay-upstream", default=None, help="the real API for record and live modes (env LLM_REPLAY_UPSTREAM; default https://api.openai.com)")
    group.addoption("--llm-replay-recordings", default=None, help="the recordings directory (env LLM_REPLAY_RECORDINGS; default <rootdir>/recordings)")
    group.addoption("--llm-replay-route", action="append", default=[], metavar="PREFIX=URL", help="another upstream for paths under a prefix, e.g. /anthropic=https://api.anthropic.com (repeatable)")
    group.addoption("--llm-replay-strict-occurrences", action="store_true", default=False, help="a request sent more often in a test than it was recorded fails the test")
    group.addoption("--llm-replay-arg", action="append", default=[], metavar="ARG", help="one more argument for `llm-replay serve` (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(mode=None, test_id=None): this test's llm-replay mode (switched for it) or test id (instead of its node id)")
    if config.option.help or config.option.version:
        return
    if _is_xdist_controller(config):
        # Each worker starts its own server, but `record` holds its directory's lock, so a
        # second record server on it is refused: the workers then share the controller's.
        if _mode(config) == "record":
            config.stash[_STATE] = _Session.start(config)
        return
    config.stash[_STATE] = _Session.start(config, getattr(config, "workerinput", {}).get(SHARED_URL))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist's hook, in the controller, for each worker
    state = node.config.stash.get(_STATE, None)
    if state is not None:
        node.workerinput[SHARED_URL] = state.server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.stop()


def _is_xdist_controller(config: pytest.Config) -> bool:
    workers = getattr(config.option, "numprocesses", None)
    return bool(workers) and not hasattr(config, "workerinput")


def _mode(config: pytest.Config) -> str:
    return _option(config, "--llm-replay-mode", "LLM_REPLAY_MODE") or "replay"


def _option(config: pytest.Config, name: str, variable: str) -> Optional[str]:
    value = config.getoption(name)
    return value if value is not None else os.environ.get(variable) or None


class _Session:
    """The server of this session and what each test needs of it."""

    def __init__(self, server: LlmReplayServer, run: str, mode: str, prefixes: List[str], route_urls: Sequence[str]):
        self.server = server
        self.admin = Admin(server.url)
        self.run = run
        self.mode = mode
        # The server's route prefixes (llm-replay.config.json's, the options', a shared server's), and the URLs the options gave.
        self.prefixes = prefixes
        self.route_urls = route_urls
        self.not_recorded = NotRecorded()
        self.saved_env = {name: os.environ.get(name) for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST", URL_VARIABLE, "OPENAI_API_KEY", "ANTHROPIC_API_KEY")}

    @classmethod
    def start(cls, config: pytest.Config, shared_url: Optional[str] = None) -> "_Session":
        root = Path(str(config.rootpath))
        mode = _mode(config)
        if mode not in MODES:
            raise pytest.UsageError(f"llm-replay: LLM_REPLAY_MODE={mode} is not one of {', '.join(MODES)}")
        recordings = Path(_option(config, "--llm-replay-recordings", "LLM_REPLAY_RECORDINGS") or root / "recordings")
        if not recordings.is_absolute():
            recordings = root / recordings
        upstream = _option(config, "--llm-replay-upstream", "LLM_REPLAY_UPSTREAM")
        routes = dict(route.split("=", 1) for route in config.getoption("--llm-replay-route") if "=" in route)
        if mode in RECORDING_MODES:  # what the options show, before a server starts
            refuse_placeholder_keys(mode, upstream, list(routes), routes.values())
        if mode == "replay" and not recordings.is_dir():
            raise pytest.UsageError(
                f"llm-replay: there is no recordings directory at {recordings}, so replay has nothing to answer from. "
                f"To start: run once with --llm-replay-mode=record-if-missing (and a real API key) to record what the tests send, "
                f"or create it (mkdir -p {recordings}) to replay nothing yet; --llm-replay-recordings names another."
            )
        args = ["--mode", mode, "--recordings", str(recordings), "--log-level", "warn"]
        if upstream:
            args += ["--upstream", upstream]
        for prefix, url in routes.items():
            args += ["--route", f"{prefix}={url}"]
        if config.getoption("--llm-replay-strict-occurrences"):
            args.append("--strict-occurrences")
        args += config.getoption("--llm-replay-arg")
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        # One scope per session and worker: sessions sharing a server keep their own occurrence counts.
        run = f"{os.environ.get(RUN_VARIABLE) or 'pytest-' + uuid.uuid4().hex[:12]}-{worker}"
        try:
            server = SharedServer(shared_url) if shared_url else LlmReplayServer(server_command(root), args, cwd=root)
        except ServerStartError as error:
            raise pytest.UsageError(str(error)) from None
        try:
            prefixes = _server_prefixes(server, list(routes))
            if mode in RECORDING_MODES:  # and what the server has, whatever set it
                refuse_placeholder_keys(mode, upstream, prefixes, routes.values())
        except BaseException:
            server.stop()
            raise
        state = cls(server, run, mode, prefixes, list(routes.values()))
        state.point_clients(None)
        if mode not in RECORDING_MODES:
            for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
                if not os.environ.get(variable):  # unset or empty
                    os.environ[variable] = PLACEHOLDER_KEY
        return state

    def point_clients(self, test_id: Optional[str]) -> None:
        """The SDKs' base URLs: the server's, with this test's id and run when there is a test."""
        base = base_url_for(self.server.url, test_id, self.run) if test_id else self.server.url
        os.environ[URL_VARIABLE] = self.server.url
        os.environ["OPENAI_BASE_URL"] = f"{base}/v1"
        for variable, prefix in SDK_ROUTES:
            os.environ[variable] = f"{base}{prefix}" if prefix in self.prefixes else base

    def stop(self) -> None:
        self.server.stop()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _server_prefixes(server: LlmReplayServer, given: List[str]) -> List[str]:
    """The route prefixes the server has: its config file's too, or a shared server's, which the options do not show."""
    try:
        prefixes = Admin(server.url).route_prefixes()
    except Exception as error:
        raise pytest.UsageError(f"llm-replay: the server at {server.url} did not answer its health check: {error}\n{server.output()}") from None
    # A build from before health named them: the options' are all there is to go by.
    return given if prefixes is None else prefixes


def _test_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker(MARKER)
    given = marker.kwargs.get("test_id") if marker else None
    return given or item.nodeid


def _marked_mode(item: pytest.Item) -> Optional[str]:
    marker = item.get_closest_marker(MARKER)
    mode = marker.kwargs.get("mode") if marker else None
    if mode is not None and mode not in MODES:
        raise pytest.UsageError(f"llm-replay: @pytest.mark.{MARKER}(mode={mode!r}) on {item.nodeid} is not one of {', '.join(MODES)}")
    return mode


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash.get(_STATE, None)
    if state is None:
        return
    test_id = _test_id(item)
    mode = _marked_mode(item)
    if mode and mode != state.mode:
        if mode in RECORDING_MODES:
            refuse_placeholder_keys(mode, None, state.prefixes, state.route_urls)
        state.admin.set_mode(mode)
    # A retried or repeated test replays from its first answer again.
    state.admin.reset(test_id, state.run)
    if (mode or state.mode) in RECORDING_MODES:
        state.not_recorded.watch(state.admin, test_id)
    state.point_clients(test_id)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    state = item.config.stash.get(_STATE, None)
    if state is None:
        return (yield)
    failure: Optional[BaseException] = None
    try:
        return (yield)
    except BaseException as error:  # re-raised below, with the misses when there are any
        failure = error
        raise
    finally:
        _fail_on_misses(state, _test_id(item), failure)


# A test that was interrupted, skipped, expected to fail or told to exit ends as that, misses or not.
_NOT_FAILURES = (KeyboardInterrupt, SystemExit, pytest.skip.Exception, pytest.xfail.Exception, pytest.exit.Exception)


def _fail_on_misses(state: _Session, test_id: str, failure: Optional[BaseException]) -> None:
    if isinstance(failure, _NOT_FAILURES):
        return
    try:
        found = state.admin.misses(test_id, state.run)
    except Exception:
        if failure is not None:
            return  # the server cannot be asked (gone?): the test's own error is the one to show
        raise
    count = found.get("count", 0)
    if not count:
        return
    shown = "\n\n".join(in_plugin_terms(miss["message"]) for miss in found.get("misses", []))
    more = f"\n\n(and {count - len(found['misses'])} more: see the server's log)" if count > len(found.get("misses", [])) else ""
    error = MissError(f"llm-replay: this test made {count} request(s) with no recording:\n\n{shown}{more}")
    if failure is None:
        raise error
    # The test failed anyway (often from the miss's own error): the report goes beside it.
    raise error from failure


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    state = item.config.stash.get(_STATE, None)
    if state is None:
        return
    state.not_recorded.read(state.admin)
    if _marked_mode(item) and _marked_mode(item) != state.mode:
        state.admin.set_mode(state.mode)
    # The test is over: a server shared beyond this session keeps nothing of it.
    state.admin.reset(_test_id(item), state.run)
    state.point_clients(None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    # A stream the server found cut after the last test ended.
    state.not_recorded.read(state.admin)
    if hasattr(session.config, "workerinput"):
        session.config.workeroutput[WORKER_OUTPUT] = state.not_recorded.found


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # xdist's hook, in the controller, as each worker ends
    node.config.stash.setdefault(_FROM_WORKERS, []).extend(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, []))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    found = (state.not_recorded.found if state is not None else []) + config.stash.get(_FROM_WORKERS, [])
    if not found:
        return
    terminalreporter.section(f"llm-replay: {len(found)} exchange{'s' if len(found) > 1 else ''} not recorded", sep="=", yellow=True, bold=True)
    for line in summary(found):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def llm_replay_url(pytestconfig: pytest.Config) -> str:
    """The llm-replay server's URL (clients add /v1 and so on)."""
    state = pytestconfig.stash.get(_STATE, None)
    if state is None:
        pytest.fail("llm-replay: no server runs in this process (the xdist controller, or the plugin off)")
    return state.server.url


@pytest.fixture
def llm_replay_base_url(request: pytest.FixtureRequest, llm_replay_url: str) -> str:
    """This test's base URL: the server's, with the test id and run in the path (clients add /v1)."""
    state = request.config.stash[_STATE]
    return base_url_for(llm_replay_url, _test_id(request.node), state.run)
