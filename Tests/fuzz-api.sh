#!/usr/bin/env bash
# Schema-driven fuzzing of `arena serve` with schemathesis (from PyPI): it loads the served
# OpenAPI document (which must validate), sends generated valid and invalid requests to every
# operation, and fails on any 5xx, any crash of the service, or a response outside the
# document. Run by `make test` after the Swift tests. The event stream never ends while its
# mix runs, so it is left to ServiceTests (every fuzzed call of it would wait out the timeout).
#   usage: Tests/fuzz-api.sh [ARENA_BINARY] [MAX_EXAMPLES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arena=${1:-$root/.build/debug/arena}
examples=${2:-50}
venv="$root/.build/schemathesis"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==4.*"
fi
work=$(mktemp -d)
port=$((18000 + RANDOM % 2000))
ARENA_TOKEN=fuzz "$arena" serve --data "$work/data" --listen "127.0.0.1:$port" --rate-limit 0 --max-mixes 2 > "$work/serve.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
"$venv/bin/st" run "http://127.0.0.1:$port/openapi.yaml" --url "http://127.0.0.1:$port" -H "Authorization: Bearer fuzz" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path "/v1/mixes/{id}/events/stream" --max-examples "$examples" --request-timeout 10 --generation-deterministic
kill -0 "$server" || { echo "fuzz-api.sh: arena serve died"; cat "$work/serve.log"; exit 1; }
