"""The server's messages name its own options (`--mode record-if-missing`, `--upstream`);
a pytest user sets them through the plugin's. What the plugin shows, it words in its
options: the server's names would not work on the pytest command line."""

import re

# Longest first: "--upstream" must not take "--upstream-timeout"'s place.
_SERVER_TO_PLUGIN = (
    (re.compile(r"\brun llm-replay with --mode (\S+)"), r"run pytest with --llm-replay-mode=\1"),
    (re.compile(r"(?<![\w-])--mode (\S+)"), r"--llm-replay-mode=\1"),
    (re.compile(r"(?<![\w-])--upstream(?![\w-])"), "--llm-replay-upstream=<url>"),
    (re.compile(r"(?<![\w-])--strict-occurrences(?![\w-])"), "--llm-replay-strict-occurrences"),
    (re.compile(r"(?<![\w-])(--record-auth-errors|--record-retryable)(?![\w-])"), r"--llm-replay-arg=\1"),
)


def in_plugin_terms(message: str) -> str:
    """A server message with its hints in the plugin's options."""
    for pattern, replacement in _SERVER_TO_PLUGIN:
        message = pattern.sub(replacement, message)
    return message
