#!/usr/bin/env bash
# `make test`: starts a moto server (a real DynamoDB and Secrets Manager API) on a free loopback
# port, creates the table as template.yaml defines it, runs every test against it, and stops it,
# also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import moto.server, flask' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml
# The link pages are tested in a real browser: Debian's headless Chromium and its driver.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "the browser tests need Chromium and ChromeDriver: apt-get install chromium chromium-driver" >&2
  fi
fi

source scripts/moto.sh
export TABLE_NAME="hirebridge-test"
python3 scripts/create_table.py template.yaml

export CARGO_PROFILE_DEV_DEBUG=0
out=$(mktemp -t cargo-test.XXXXXX.log)
status=0
cargo test --workspace "$@" 2>&1 | tee "$out" || status=$?
# One closing line that counts every test of every binary.
python3 - "$out" <<'PY'
import re, sys
passed = failed = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", line)
    if m:
        passed += int(m.group(1)); failed += int(m.group(2))
print(f"{passed} passed, {failed} failed")
PY
exit "$status"
