"""pytest plugin for llm-replay: a record-and-replay proxy for LLM APIs."""

from .server import LlmReplayServer, ServerStartError
from .test_id import base_url_for, path_prefix

__all__ = ["LlmReplayServer", "ServerStartError", "base_url_for", "path_prefix"]
