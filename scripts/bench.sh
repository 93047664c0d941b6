#!/usr/bin/env bash
# `make bench`: the six functions' release binaries (and the floor, a hello-world `lambda_http`,
# in the same `cargo build` with the same profile) in a local Lambda execution environment —
# a Runtime API on loopback, a moto server behind a counting proxy, the testkit fakes — driven
# by bench/ (hirebridge-bench). Writes docs/benchmarks.md and docs/benchmarks.json.
#
#   BENCH_ARGS="--warm 200 --rounds 5 --scale 1000"  smaller runs
#   BENCH_STRACE=0                                    skip the init investigation (strace)
#   BENCH_TRIAL=1                                     also build with opt-level "z" and
#                                                     relocation-model=static (own target dir, a
#                                                     full rebuild the first time) and start
#                                                     those in the same cold rounds
set -euo pipefail
cd "$(dirname "$0")/.."
began=$(date +%s)
# Absolute: the harness starts the binaries from other working directories.
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
export CARGO_TARGET_DIR=$target

python3 -c 'import moto.server, flask' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'
python3 -c 'import yaml, boto3' 2>/dev/null || python3 -m pip install --quiet pyyaml boto3
command -v zip >/dev/null || { echo "make bench needs zip (apt-get install zip)" >&2; exit 1; }

# The functions, the floor and the ladder (the floor plus each step of a function's init, for
# the init investigation) in one build, as `cargo build --release -p …` builds them for a
# deployment; the floor and the ladder add no feature to any crate the functions use. A crate
# that does not build is reported, and the rest is measured.
packages=(-p alva -p learnster -p twosecure -p sparkhire -p stackone -p hirebridge-floor -p hirebridge-ladder)
build_status=0
cargo build --release --keep-going "${packages[@]}" || build_status=$?
variant_args=()
if [ "${BENCH_TRIAL:-0}" = 1 ]; then
  # The size trial: opt-level "z" and a non-PIE executable (no dynamic relocations to apply at
  # start), in a target dir of its own; RUSTFLAGS with an explicit --target reach only the
  # target's code, not build scripts or proc macros.
  # (force-unwind-tables=no is passed too; it leaves .eh_frame as it is — see the sections.)
  host=$(rustc -vV | sed -n 's/^host: //p')
  trial=${BENCH_TRIAL_TARGET_DIR:-$target-trial}
  CARGO_TARGET_DIR="$trial" CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
    RUSTFLAGS="-C force-unwind-tables=no -C relocation-model=static" \
    cargo build --release --keep-going --target "$host" "${packages[@]}" || true
  variant_args+=(--variant-bins "opt-level=z, relocation-model=static=$trial/$host/release")
fi
built=$(date +%s)

# The harness itself needs speed, not size: a profile of its own (no LTO, many codegen units),
# so its build reuses nothing of, and changes nothing in, the release binaries above.
CARGO_PROFILE_HARNESS_INHERITS=release CARGO_PROFILE_HARNESS_OPT_LEVEL=1 CARGO_PROFILE_HARNESS_LTO=false \
CARGO_PROFILE_HARNESS_CODEGEN_UNITS=16 CARGO_PROFILE_HARNESS_STRIP=false CARGO_PROFILE_HARNESS_INCREMENTAL=true \
  cargo build --profile harness -q -p hirebridge-bench

source scripts/moto.sh
export TABLE_NAME="hirebridge-bench"
python3 scripts/create_table.py template.yaml

strace_args=()
if [ "${BENCH_STRACE:-1}" = 1 ] && command -v strace >/dev/null; then strace_args=(--strace); fi
# shellcheck disable=SC2086
"$target/harness/hirebridge-bench" --bins "$target/release" --out docs --logs "$target/bench-logs" \
  --build-seconds "$((built - began))" --began "$began" "${strace_args[@]}" "${variant_args[@]}" ${BENCH_ARGS:-}
sed -n '/^## Per function/,/^## The bars/p' docs/benchmarks.md | head -n -1
sed -n '/^## The bars/,/^DynamoDB calls/p' docs/benchmarks.md | head -n -1
echo "make bench: $(( $(date +%s) - began )) s; docs/benchmarks.md and docs/benchmarks.json written"
exit "$build_status"
