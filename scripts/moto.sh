# Sourced by scripts/test.sh and scripts/bench.sh: starts a moto server (a real DynamoDB and
# Secrets Manager API) on a free loopback port, stops it when the calling script exits, and
# points the AWS SDK at it (AWS_ENDPOINT_URL and test credentials).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t moto.XXXXXX.log)
python3 scripts/moto_server.py 127.0.0.1 "$port" >"$log" 2>&1 &
moto_pid=$!
stop() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=eu-north-1 AWS_DEFAULT_REGION=eu-north-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
