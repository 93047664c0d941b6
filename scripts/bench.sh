#!/usr/bin/env bash
# `make bench`: release binaries (size-optimised profile: LTO, one codegen unit, stripped) and
# their sizes, then the CPU cost of a warm webhook's own work.
set -euo pipefail
cd "$(dirname "$0")/.."
functions=(learnster-webhook alva-activation twosecure-order twosecure-status sparkhire-key-exchange stackone-credential-link)
args=()
for f in "${functions[@]}"; do args+=(-p "$f"); done
cargo build --release -q "${args[@]}"
cargo build --release -q -p hirebridge-local --bin hirebridge-bench
echo "release binaries for $(uname -m) (Lambda runs arm64 builds of the same profile: make build)"
printf '%-28s %10s %14s\n' function bytes "gzip -9 bytes"
for f in "${functions[@]}"; do
  size=$(stat -c %s "target/release/$f")
  zipped=$(gzip -9 -c "target/release/$f" | wc -c)
  printf '%-28s %10d %14d\n' "$f" "$size" "$zipped"
done
echo
target/release/hirebridge-bench
