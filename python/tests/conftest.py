import json
from pathlib import Path

import pytest

from fake_upstream import FakeUpstream

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin" / "llm-replay.js"


@pytest.fixture(autouse=True)
def llm_replay_env(monkeypatch, tmp_path):
    """Inner sessions run this repository's build and start from a clean environment."""
    if not (REPO / "dist" / "index.js").is_file():
        pytest.fail("build llm-replay first (npm run build): the plugin runs its bin/llm-replay.js")
    monkeypatch.setenv("LLM_REPLAY_BIN", str(BIN))
    # The servers' state (ids, usage files) in the test's own folder, not one per run under the OS temp folder.
    monkeypatch.setenv("LLM_REPLAY_STATE_DIR", str(tmp_path / "llm-replay-state"))
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLM_REPLAY_MODE", "LLM_REPLAY_RECORDINGS", "LLM_REPLAY_UPSTREAM", "LLM_REPLAY_RUN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def inner_rootdir(pytester):
    """An ini file in the inner sessions' folder: their rootdir, so node ids do not depend on the arguments."""
    pytester.makeini("[pytest]\n")


@pytest.fixture
def upstream():
    fake = FakeUpstream()
    yield fake
    fake.stop()


def recordings(folder: Path):
    return [json.loads(path.read_text()) for path in sorted(folder.rglob("*.json"))]
