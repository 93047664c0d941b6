#!/usr/bin/env bash
# Fuzzes every route of openapi.yaml against the local runner (embedded storage, the built-in
# sandbox of the outside services, the development secrets) with Schemathesis (PyPI, in its own
# virtual environment): no answer may be a 5xx, and every answer must match the document (status
# code, content type, headers, body schema). The schema is read from the runner itself
# (/openapi.yaml). Extra arguments go to `schemathesis run`, e.g. --max-examples 200.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
st_bin=$(tool_venv schemathesis 'schemathesis>=4.32,<5')

export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"
cargo build -q -p hirebridge-local --bin hirebridge-local
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
log=$(mktemp -t hirebridge-local.XXXXXX.log)
# The same as `cargo run -p hirebridge-local -- --addr 127.0.0.1:$port --secrets local/dev-secrets.json`.
RUST_LOG="${RUST_LOG:-warn}" "$target_dir/debug/hirebridge-local" --addr "127.0.0.1:$port" --secrets local/dev-secrets.json >"$log" 2>&1 &
runner=$!
stop() {
  kill "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
}
trap stop EXIT INT TERM

# Up when it answers HTTP at all; then it must serve the document.
probe() {
  python3 - "$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
    sys.exit(0)
except urllib.error.HTTPError as e:
    sys.exit(3 if e.code == 404 else 4)
except Exception:
    sys.exit(1)
PY
}
ready=1
for _ in $(seq 1 150); do
  ready=0
  probe "$base/openapi.yaml" || ready=$?
  [ "$ready" -eq 1 ] || break
  if ! kill -0 "$runner" 2>/dev/null; then
    echo "the local runner did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
if [ "$ready" -ne 0 ]; then
  echo "the local runner does not serve $base/openapi.yaml (probe status $ready)" >&2
  exit 1
fi

echo "== schemathesis run $base/openapi.yaml"
status=0
"$st_bin/schemathesis" run "$base/openapi.yaml" --url "$base" \
  --header 'Authorization: Bearer dev-admin-token' \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --request-timeout 20 \
  --report junit --report-dir "$target_dir/schemathesis" \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "-- the local runner's log (last 50 lines):" >&2
  tail -n 50 "$log" >&2
fi
exit "$status"
