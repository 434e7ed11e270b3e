#!/usr/bin/env bash
# The Python the tests use: a venv at .venv with the real SDKs and pytest from the
# machine's package index. Made once, reused while it imports them; safe when
# several test files ask at once (flock). Prints the venv's python.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
exec 9>"$root/.venv.lock"
flock 9
if ! "$venv/bin/python" -c 'import openai, anthropic, pytest, xdist, pytest_asyncio' >/dev/null 2>&1; then
  python3 -m venv "$venv" >&2
  # --retries 0: an index that cannot be reached is passed over at once rather than retried.
  "$venv/bin/pip" install --quiet --retries 0 --disable-pip-version-check -r "$root/python/requirements-dev.txt" >&2
fi
echo "$venv/bin/python"
