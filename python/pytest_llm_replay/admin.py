"""Calls to llm-replay's admin endpoints (standard library only)."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

ADMIN_TOKEN_VARIABLE = "LLM_REPLAY_ADMIN_TOKEN"


class AdminError(RuntimeError):
    """An admin endpoint answered with an error."""


def _call(url: str, method: str = "GET", body=None, timeout: float = 30.0):
    headers = {"accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    token = os.environ.get(ADMIN_TOKEN_VARIABLE)
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    # Straight to the server: a proxy configured for the machine must not see these.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf8", "replace")
        raise AdminError(f"{method} {url}: {error.code} {detail}") from None


class Admin:
    """The admin endpoints of one server."""

    def __init__(self, server_url: str):
        self.base = server_url.rstrip("/") + "/_llm-replay"

    def health(self, timeout: float = 5.0):
        return _call(f"{self.base}/health", timeout=timeout)

    def route_prefixes(self):
        """The server's route prefixes (never their upstreams), or None from a build whose health does not name them."""
        health = self.health()
        prefixes = health.get("routes") if isinstance(health, dict) else None
        return [str(prefix) for prefix in prefixes] if isinstance(prefixes, list) else None

    def reset(self, test_id: str, run: str) -> None:
        _call(f"{self.base}/occurrences/reset", "POST", {"test_id": test_id, "run": run})

    def misses(self, test_id: str, run: str):
        query = urllib.parse.urlencode({"test_id": test_id, "run": run})
        return _call(f"{self.base}/misses?{query}")

    def journal(self, after: int):
        """This run's requests with sequence numbers above `after`, and the next one's number."""
        return _call(f"{self.base}/api/journal?after={after}")

    def set_mode(self, mode: str) -> None:
        _call(f"{self.base}/mode", "PUT", {"mode": mode})
