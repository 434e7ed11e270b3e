"""The plugin in inner pytest sessions (pytester, a subprocess each): the real openai
and anthropic SDKs, recorded against a fake upstream and replayed with it stopped."""

import os
import socket
import time
import urllib.parse
from pathlib import Path

from conftest import recordings

SDK_TESTS = '''
import anthropic, openai, pytest

def chat(content):
    return openai.OpenAI(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": content}])

def test_chat():
    assert chat("Hello").choices[0].message.content == "Answer to: Hello"

def test_stream():
    stream = openai.OpenAI(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream"}], stream=True)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == "Streamed answer"

def test_tools():
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    answer = openai.OpenAI(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=[tool])
    call = answer.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')

def test_embeddings():
    answer = openai.OpenAI(max_retries=0).embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [item.embedding for item in answer.data] == [[0.5, -0.25, 0.0], [0.5, -0.25, 1.0]]

def test_anthropic():
    answer = anthropic.Anthropic(max_retries=0).messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Bonjour"}])
    assert answer.content[0].text == "Bonjour from Claude"

def test_anthropic_stream():
    with anthropic.Anthropic(max_retries=0).messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Bonjour"}]) as stream:
        assert stream.get_final_text() == "Bonjour streamed"

@pytest.mark.asyncio
async def test_async():
    answer = await openai.AsyncOpenAI(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Async"}])
    assert answer.choices[0].message.content == "Answer to: Async"

@pytest.mark.llm_replay(test_id="a chosen id")
def test_marked_id():
    assert chat("Hello").choices[0].message.content == "Answer to: Hello"
'''

NODE_IDS = ["test_sdk.py::test_" + name for name in ("chat", "stream", "tools", "embeddings", "anthropic", "anthropic_stream", "async")]


def record(pytester, upstream, folder: Path, *args):
    os.environ["OPENAI_API_KEY"] = "sk-test-a-real-looking-key-0123456789"
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-test-a-real-looking-key-0123456789"
    return pytester.runpytest_subprocess("--llm-replay-mode=record", f"--llm-replay-upstream={upstream.url}", f"--llm-replay-recordings={folder}", *args)


def test_records_the_sdks_then_replays_them_with_the_upstream_gone(pytester, upstream, tmp_path):
    pytester.makepyfile(test_sdk=SDK_TESTS)
    folder = tmp_path / "recordings"
    record(pytester, upstream, folder).assert_outcomes(passed=8)
    assert len(upstream.received) == 8
    assert sorted(r["test_id"] for r in recordings(folder)) == sorted([*NODE_IDS, "a chosen id"])
    # No key reached a file.
    assert not any("real-looking" in path.read_text() for path in folder.rglob("*.json"))
    upstream.stop()

    os.environ.pop("OPENAI_API_KEY")
    os.environ.pop("ANTHROPIC_API_KEY")
    result = pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}")
    result.assert_outcomes(passed=8)


NOT_RECORDED_TESTS = '''
import openai, pytest

def ask(model, **options):
    return openai.OpenAI(max_retries=0).chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], **options)

def test_limited():
    with pytest.raises(openai.RateLimitError):
        ask("rate-limited")

def test_stops_reading():
    with ask("held-stream", stream=True) as stream:
        for chunk in stream:
            break

def test_recorded():
    assert ask("gpt-4o-mini").choices[0].message.content == "Answer to: Hi"
'''


def test_a_record_run_ends_with_what_it_did_not_write_by_test_request_and_reason(pytester, upstream, tmp_path):
    pytester.makepyfile(test_partial=NOT_RECORDED_TESTS)
    folder = tmp_path / "recordings"
    result = record(pytester, upstream, folder)
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    assert "llm-replay: 2 exchanges not recorded" in out
    assert "test_partial.py::test_limited: POST /v1/chat/completions (model rate-limited): the upstream answered 429, which the SDKs retry" in out
    assert "test_partial.py::test_stops_reading: POST /v1/chat/completions (model held-stream): the client hung up before the stream's final event" in out
    assert "test_partial.py::test_recorded:" not in out
    assert [r["test_id"] for r in recordings(folder)] == ["test_partial.py::test_recorded"]

    replayed = pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}", "test_partial.py::test_recorded")
    replayed.assert_outcomes(passed=1)
    assert "not recorded" not in replayed.stdout.str()


def test_under_xdist_the_controller_lists_what_its_workers_did_not_write(pytester, upstream, tmp_path):
    pytester.makepyfile(test_partial=NOT_RECORDED_TESTS)
    for mode in ("record", "record-if-missing"):  # one server for all workers, then one per worker
        result = record(pytester, upstream, tmp_path / mode, "-n", "2", f"--llm-replay-mode={mode}")
        result.assert_outcomes(passed=3)
        out = result.stdout.str()
        assert "llm-replay: 2 exchanges not recorded" in out
        assert "test_partial.py::test_limited: POST /v1/chat/completions (model rate-limited)" in out
        assert "test_partial.py::test_stops_reading: POST /v1/chat/completions (model held-stream)" in out


def test_a_swallowed_miss_fails_its_test_with_the_nearest_recording_and_what_differs(pytester, upstream, tmp_path):
    folder = tmp_path / "recordings"
    pytester.makepyfile(test_one="import openai\n\ndef test_ask():\n    openai.OpenAI(max_retries=0).chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'Hello'}])\n")
    record(pytester, upstream, folder).assert_outcomes(passed=1)
    upstream.stop()
    pytester.makepyfile(
        test_one="""
import openai

def test_ask():
    try:
        openai.OpenAI(max_retries=0).chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'Hello there'}])
    except openai.APIError:
        pass  # swallowed: the plugin still fails the test

def test_other():
    pass

def test_skips_after_a_miss():
    import pytest
    try:
        openai.OpenAI(max_retries=0).chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'Skipped'}])
    except openai.APIError:
        pytest.skip("a skip stays a skip, misses or not")
"""
    )
    result = pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    output = result.stdout.str()
    assert "test_one.py::test_ask" in output and "MissError" in output
    assert "1 request(s) with no recording" in output
    # The report names the nearest recording and the field that differs.
    assert "nearest" in output.lower()
    assert "Hello there" in output
    # Its hint names the plugin's option, which works on the pytest command line, not the server's.
    assert "run pytest with --llm-replay-mode=record-if-missing" in output
    assert "--mode record-if-missing" not in output


def test_a_repeat_past_the_recording_fails_with_strict_occurrences(pytester, upstream, tmp_path):
    folder = tmp_path / "recordings"
    ask = "import openai\n\ndef ask():\n    return openai.OpenAI(max_retries=0).chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'Hello'}])\n"
    pytester.makepyfile(test_poll=ask + "\ndef test_poll():\n    ask()\n")
    record(pytester, upstream, folder).assert_outcomes(passed=1)
    upstream.stop()
    pytester.makepyfile(test_poll=ask + "\ndef test_poll():\n    ask()\n    ask()\n")
    pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}").assert_outcomes(passed=1)
    strict = pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}", "--llm-replay-strict-occurrences")
    strict.assert_outcomes(failed=1)
    assert "no recording" in strict.stdout.str()


def test_xdist_workers_each_replay_with_their_own_server_and_run(pytester, upstream, tmp_path):
    pytester.makepyfile(test_sdk=SDK_TESTS)
    folder = tmp_path / "recordings"
    record(pytester, upstream, folder).assert_outcomes(passed=8)
    upstream.stop()
    os.environ.pop("OPENAI_API_KEY")
    pytester.makeconftest("import os\n\ndef pytest_sessionfinish(session):\n    open(f'urls-{os.getpid()}.txt', 'w').write(os.environ.get('LLM_REPLAY_URL', ''))\n")
    result = pytester.runpytest_subprocess("-n", "2", f"--llm-replay-recordings={folder}")
    result.assert_outcomes(passed=8)
    assert "2 workers" in result.stdout.str()
    urls = {path.read_text() for path in Path(pytester.path).glob("urls-*.txt")} - {""}
    assert len(urls) == 2



def test_xdist_workers_record_through_the_controllers_one_server(pytester, upstream, tmp_path):
    # One record server holds a directory's lock: a server per worker refused the second.
    pytester.makepyfile(test_sdk=SDK_TESTS)
    folder = tmp_path / "recordings"
    pytester.makeconftest("import os\n\ndef pytest_sessionfinish(session):\n    open(f'urls-{os.getpid()}.txt', 'w').write(os.environ.get('LLM_REPLAY_URL', ''))\n")
    result = record(pytester, upstream, folder, "-n", "2")
    result.assert_outcomes(passed=8)
    assert "2 workers" in result.stdout.str()
    assert len(upstream.received) == 8
    assert sorted(r["test_id"] for r in recordings(folder)) == sorted([*NODE_IDS, "a chosen id"])
    urls = {path.read_text() for path in Path(pytester.path).glob("urls-*.txt")} - {""}
    assert len(urls) == 1
    assert not _listening(urls.pop())

def _listening(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=2).close()
        return True
    except OSError:
        return False


def _processes_naming(text: str):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf8", "replace")
        except OSError:
            continue
        if text in command:
            found.append((entry.name, command))
    return found


def test_the_server_is_gone_after_the_session_and_wrote_its_usage_file(pytester, tmp_path):
    folder = tmp_path / "unique-recordings-folder"
    folder.mkdir()
    usage = tmp_path / "usage"
    pytester.makepyfile(test_url="import os\n\ndef test_url():\n    open('url.txt', 'w').write(os.environ['LLM_REPLAY_URL'])\n    assert '/_llm-replay/t/' in os.environ['OPENAI_BASE_URL']\n")
    result = pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}", "--llm-replay-arg=--usage-dir", f"--llm-replay-arg={usage}")
    result.assert_outcomes(passed=1)
    url = (Path(pytester.path) / "url.txt").read_text()
    assert url.startswith("http://127.0.0.1:")
    assert not _listening(url)
    assert _processes_naming(str(folder)) == []
    assert list(usage.glob("*.json")), "the usage file is written at shutdown"


def test_without_llm_replay_bin_it_finds_the_clone_it_was_installed_from(monkeypatch):
    # pip install ./python copies the plugin into a site-packages that may be anywhere.
    from pytest_llm_replay import server

    monkeypatch.setattr(server, "__file__", "/nowhere/site-packages/pytest_llm_replay/server.py")
    assert server._repository_bin() == Path(__file__).resolve().parents[2] / "bin" / "llm-replay.js"


def test_the_server_goes_when_pytest_is_killed_outright(pytester, tmp_path):
    folder = tmp_path / "killed-session-recordings"
    folder.mkdir()
    pytester.makepyfile(test_kill="import os, signal\n\ndef test_kill():\n    open('url.txt', 'w').write(os.environ['LLM_REPLAY_URL'])\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    pytester.runpytest_subprocess(f"--llm-replay-recordings={folder}")
    url = (Path(pytester.path) / "url.txt").read_text()
    # An exiting process loses its command line before its sockets: wait for both to go.
    deadline = time.monotonic() + 20
    while (_processes_naming(str(folder)) or _listening(url)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_naming(str(folder)) == []
    assert not _listening(url)


def test_recording_with_a_placeholder_key_is_refused_naming_the_variable(pytester, upstream, tmp_path):
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    os.environ["OPENAI_API_KEY"] = "unused"
    result = pytester.runpytest_subprocess("--llm-replay-mode=record", f"--llm-replay-upstream={upstream.url}", f"--llm-replay-recordings={tmp_path / 'r'}")
    assert result.ret != 0
    assert "set OPENAI_API_KEY to a real key" in result.stderr.str()
    assert "or use --llm-replay-mode=replay." in result.stderr.str()
    assert upstream.received == []


def test_a_first_run_without_recordings_says_how_to_start(pytester, tmp_path):
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(f"--llm-replay-recordings={tmp_path / 'none-yet'}")
    assert result.ret != 0
    error = result.stderr.str()
    assert "--llm-replay-mode=record-if-missing" in error and "mkdir -p" in error
