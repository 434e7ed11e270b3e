"""The API keys a session needs: placeholders in replay (the SDKs refuse to start without
one), real ones in the recording modes, which forward the clients' keys upstream."""

import os
from typing import Iterable, Optional, Sequence

import pytest

PLACEHOLDER_KEY = "llm-replay-placeholder"
PLACEHOLDER_KEYS = {"", PLACEHOLDER_KEY, "llm-replay", "unused", "unused-in-replay", "placeholder", "dummy", "fake", "none", "test"}


def refuse_placeholder_keys(mode: str, upstream: Optional[str], prefixes: Sequence[str], route_urls: Iterable[str] = ()) -> None:
    """A UsageError naming the first key the requests of `mode` need that is unset or a placeholder."""
    needed = []
    if "anthropic" not in (upstream or ""):
        needed.append("OPENAI_API_KEY")
    # An /anthropic route is where ANTHROPIC_BASE_URL points, whatever its upstream (a local gateway, a fake).
    if "anthropic" in (upstream or "") or "/anthropic" in prefixes or any("anthropic" in url for url in route_urls):
        needed.append("ANTHROPIC_API_KEY")
    for variable in needed:
        if os.environ.get(variable, "").strip() in PLACEHOLDER_KEYS:
            raise pytest.UsageError(
                f"llm-replay: {mode} mode forwards requests to the real API with the clients' keys, and {variable} "
                f"is {'not set' if not os.environ.get(variable) else 'a placeholder'}: set {variable} to a real key to record "
                "(it never reaches a recording), or use --llm-replay-mode=replay."
            )
