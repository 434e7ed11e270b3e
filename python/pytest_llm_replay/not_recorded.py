"""What record mode passed on without writing (a 429, a 5xx, a refused key, a stream
cut short): the server logs it, but a pytest user reads the terminal, and the next
replay of that test misses. The exchanges come from the server's journal (GET
/_llm-replay/api/journal), read after each test from where the last read ended, so a
stream the server found cut after its test had ended is still told, under its test."""

from typing import Dict, List, Optional

from .hints import in_plugin_terms

PREFIX = "not recorded: "
# How a pytest-xdist worker hands its findings to the controller, which prints them.
WORKER_OUTPUT = "llm_replay_not_recorded"
FIELDS = ("testId", "method", "path", "model")
NO_REQUEST_YET = 2**52


class NotRecorded:
    """The exchanges of this session's tests that were not written."""

    def __init__(self) -> None:
        self.found: List[Dict[str, Optional[str]]] = []
        self.tests = set()
        self._after: Optional[int] = None

    def watch(self, admin, test_id: str) -> None:
        """A test runs in a recording mode: its exchanges are read from here on."""
        if self._after is None:
            # Asked for what comes after a number no request has, the journal gives only the next one's.
            self._after = admin.journal(NO_REQUEST_YET)["next"] - 1
        self.tests.add(test_id)

    def read(self, admin) -> None:
        """Notes this session's unwritten exchanges since the last read."""
        if self._after is None:
            return
        page = admin.journal(self._after)
        for item in page["items"]:
            message = item.get("message") or ""
            if item["kind"] == "failed" and message.startswith(PREFIX) and item.get("testId") in self.tests:
                found = {name: item.get(name) for name in FIELDS}
                found["reason"] = message[len(PREFIX):]
                self.found.append(found)
        self._after = page["next"] - 1


def summary(found: List[Dict[str, Optional[str]]]) -> List[str]:
    """The lines of the terminal summary's warning section: an SDK retrying a 429 sends the
    same request again, so identical lines are one, with how many times, in first-seen order."""
    counts: Dict[str, int] = {}
    for item in found:
        model = f" (model {item['model']})" if item.get("model") else ""
        line = f"{item['testId']}: {item['method']} {item['path']}{model}: {in_plugin_terms(item['reason'] or '')}"
        counts[line] = counts.get(line, 0) + 1
    lines = [line if count == 1 else f"{line} (×{count})" for line, count in counts.items()]
    lines.append("")
    lines.append("These exchanges reached the tests but were not written: replaying those tests will miss. Fix the cause, then record them again.")
    return lines
