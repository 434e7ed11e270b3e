"""The base URL that carries a test id and run scope in its path.

llm-replay reads ``/_llm-replay/t/<run>/<test id>/...`` as the request ``...`` with
``X-Test-Id: <test id>`` and ``x-llm-replay-run: <run>`` (README, "Test ids"): any
client that takes a base URL from the environment sends them without being touched.
"""

from urllib.parse import quote

NO_RUN = "-"


def path_prefix(test_id: str, run: str = "") -> str:
    """The path prefix for this test id and run; each is one percent-encoded segment."""
    return f"/_llm-replay/t/{quote(run or NO_RUN, safe='')}/{quote(test_id, safe='')}"


def base_url_for(server_url: str, test_id: str, run: str = "") -> str:
    """The server's URL with the prefix: clients append their own path (/v1 ...)."""
    return server_url.rstrip("/") + path_prefix(test_id, run)
