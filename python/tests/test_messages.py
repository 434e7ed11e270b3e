"""What the plugin shows a pytest user: the not-recorded summary with a retried request's
lines as one, and the server's hints worded in the plugin's own options."""

from test_plugin import record

from pytest_llm_replay.hints import in_plugin_terms
from pytest_llm_replay.not_recorded import summary


def exchange(test_id, reason, model="gpt-4o-mini"):
    return {"testId": test_id, "method": "POST", "path": "/v1/chat/completions", "model": model, "reason": reason}


def test_identical_lines_are_one_with_how_many_times_in_first_seen_order():
    retried = exchange("t.py::test_a", "the upstream answered 429, which the SDKs retry")
    cut = exchange("t.py::test_b", "the stream broke off")
    lines = summary([retried, cut, dict(retried), dict(retried), exchange("t.py::test_c", "the upstream answered 429, which the SDKs retry")])
    assert lines[:3] == [
        "t.py::test_a: POST /v1/chat/completions (model gpt-4o-mini): the upstream answered 429, which the SDKs retry (×3)",
        "t.py::test_b: POST /v1/chat/completions (model gpt-4o-mini): the stream broke off",
        "t.py::test_c: POST /v1/chat/completions (model gpt-4o-mini): the upstream answered 429, which the SDKs retry",
    ]
    assert lines[3] == ""


def test_the_servers_options_become_the_plugins():
    refused = "the upstream refused the key (401); set OPENAI_API_KEY (or your provider's key) or --upstream (--record-auth-errors records such answers)"
    assert in_plugin_terms(refused) == (
        "the upstream refused the key (401); set OPENAI_API_KEY (or your provider's key) or --llm-replay-upstream=<url> (--llm-replay-arg=--record-auth-errors records such answers)"
    )
    miss = "To record it, run llm-replay with --mode record-if-missing (LLM_REPLAY_MODE=record-if-missing) and give the client its real API key."
    assert in_plugin_terms(miss) == "To record it, run pytest with --llm-replay-mode=record-if-missing (LLM_REPLAY_MODE=record-if-missing) and give the client its real API key."
    assert in_plugin_terms("with --strict-occurrences a request") == "with --llm-replay-strict-occurrences a request"
    # Longer options that start the same are left alone.
    assert in_plugin_terms("silent past --upstream-timeout") == "silent past --upstream-timeout"
    assert in_plugin_terms("--llm-replay-mode=replay") == "--llm-replay-mode=replay"


def test_an_sdk_retrying_a_429_is_one_summary_line_with_how_many_times(pytester, upstream, tmp_path):
    pytester.makepyfile(
        test_retry="""
import openai, pytest

def test_limited():
    with pytest.raises(openai.RateLimitError):
        openai.OpenAI(max_retries=2).chat.completions.create(model="rate-limited", messages=[{"role": "user", "content": "Hi"}])
"""
    )
    result = record(pytester, upstream, tmp_path / "recordings")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "llm-replay: 3 exchanges not recorded" in out
    line = "test_retry.py::test_limited: POST /v1/chat/completions (model rate-limited): the upstream answered 429, which the SDKs retry"
    assert out.count(line) == 1
    assert "(--llm-replay-arg=--record-retryable writes it) (×3)" in out
