"""The SDKs go through the routes the server has, whatever set them (llm-replay.config.json,
--llm-replay-route, the controller's server under xdist), and a recording mode refuses to
start without a real key for each route's SDK."""

import json
import os
from pathlib import Path

import pytest

from conftest import recordings
from fake_upstream import FakeUpstream
from test_plugin import _processes_naming

ANTHROPIC_TEST = '''
import anthropic

def test_claude():
    answer = anthropic.Anthropic(max_retries=0).messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Bonjour"}])
    assert answer.content[0].text == "Bonjour from Claude"
'''

REAL_KEYS = {"OPENAI_API_KEY": "sk-test-a-real-looking-key-0123456789", "ANTHROPIC_API_KEY": "sk-ant-test-a-real-looking-key-0123456789"}


@pytest.fixture
def claude():
    """The /anthropic route's upstream, apart from the default one."""
    fake = FakeUpstream()
    yield fake
    fake.stop()


def config_file(pytester, upstream, routes):
    (Path(pytester.path) / "llm-replay.config.json").write_text(json.dumps({"upstream": upstream.url, "routes": routes}))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-session", "xdist-workers-on-the-controllers-server"])
def test_a_route_in_the_config_file_takes_the_anthropic_sdk_to_its_upstream_in_record_and_replay(pytester, upstream, claude, tmp_path, workers):
    config_file(pytester, upstream, {"/anthropic": claude.url})
    pytester.makepyfile(test_claude=ANTHROPIC_TEST)
    folder = tmp_path / "recordings"
    os.environ.update(REAL_KEYS)
    pytester.runpytest_subprocess("--llm-replay-mode=record", f"--llm-replay-recordings={folder}", *workers).assert_outcomes(passed=1)
    # The Anthropic key went to the route's upstream, never to the default (OpenAI's) one.
    assert upstream.received == []
    assert [(path, {k.lower(): v for k, v in headers.items()}.get("x-api-key")) for path, headers, _ in claude.received] == [("/v1/messages", REAL_KEYS["ANTHROPIC_API_KEY"])]
    [made] = recordings(folder)
    assert (made["request"]["endpoint"], made["response"]["origin"]["upstream"]) == ("/anthropic/v1/messages", claude.url.split("//")[1])

    # Replay takes the route from the server too: no option names it.
    claude.stop()
    upstream.stop()
    for variable in REAL_KEYS:
        os.environ.pop(variable)
    pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}", *workers).assert_outcomes(passed=1)


def test_an_anthropic_route_to_a_local_url_needs_a_real_anthropic_key_to_record(pytester, upstream, claude, tmp_path):
    pytester.makepyfile(test_claude=ANTHROPIC_TEST)
    os.environ["OPENAI_API_KEY"] = REAL_KEYS["OPENAI_API_KEY"]
    folder = tmp_path / "refused-route-recordings"
    # Named by an option (refused before a server starts), then by the config file (once the server says so).
    given = pytester.runpytest_subprocess("--llm-replay-mode=record", f"--llm-replay-upstream={upstream.url}", f"--llm-replay-route=/anthropic={claude.url}", f"--llm-replay-recordings={folder}")
    config_file(pytester, upstream, {"/anthropic": claude.url})
    configured = pytester.runpytest_subprocess("--llm-replay-mode=record-if-missing", f"--llm-replay-recordings={folder}")
    for result in (given, configured):
        assert result.ret != 0
        assert "ANTHROPIC_API_KEY is not set: set ANTHROPIC_API_KEY to a real key to record" in result.stderr.str()
        assert "Could not resolve authentication method" not in result.stdout.str()
    assert claude.received == [] and upstream.received == []
    # The server the second one started for its health went with the refusal.
    assert _processes_naming(str(folder)) == []
