#!/usr/bin/env bash
# `make deploy`: `sam build` (cargo lambda, arm64, for each function of template.yaml) then
# `sam deploy` with samconfig.toml. The first time (samconfig.toml has no region yet), or with
# GUIDED=1, the deploy is guided: SAM asks for the region and the template's parameters and
# saves the answers in samconfig.toml. Needs AWS credentials (the usual AWS_PROFILE or
# AWS_ACCESS_KEY_ID/...). Extra arguments go to `sam deploy`, e.g. --config-env prod.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

ensure_cargo_lambda
ensure_arm64_target
ensure_sam

echo "== sam build"
"$SAM" build

guided=()
if [ "${GUIDED:-0}" = 1 ] || ! grep -Eq '^[[:space:]]*region[[:space:]]*=' samconfig.toml; then
  echo "== first deploy: sam deploy --guided (the answers are saved in samconfig.toml; commit them)"
  guided=(--guided)
fi
echo "== sam deploy ${guided[*]} $*"
"$SAM" deploy "${guided[@]}" "$@"

# sam deploy ends by printing the stack's outputs: the URLs to paste into Teamtailor and to give
# the services (docs/operations.md).
