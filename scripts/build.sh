#!/usr/bin/env bash
# `make build`: the six Lambda functions for arm64 (Graviton, provided.al2023), release profile,
# one target/lambda/<function>/bootstrap.zip each, and their sizes. Installs what it needs when
# missing: cargo-lambda from PyPI (with zig, the cross linker) and the aarch64 Rust target.
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

functions=(alva-activation learnster-webhook twosecure-order twosecure-status sparkhire-key-exchange stackone-credential-link)

ensure_cargo_lambda
ensure_arm64_target

args=()
for f in "${functions[@]}"; do args+=(--bin "$f"); done
echo "== cargo lambda build --release --arm64 --output-format zip ${args[*]}"
cargo lambda build --release --arm64 --output-format zip "${args[@]}"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
python3 - "$target_dir/lambda" "${functions[@]}" <<'PY'
import os, sys, zipfile

lambda_dir, functions = sys.argv[1], sys.argv[2:]
MB = 1_000_000
print(f"\narm64 Lambda packages in {lambda_dir} (the bar: binary ≤ 6 MB, zip ≤ 3 MB)")
print(f"{'function':<26} {'bootstrap bytes':>16} {'bootstrap.zip bytes':>20}  arch")
missing = []
for f in functions:
    path = os.path.join(lambda_dir, f, "bootstrap.zip")
    if not os.path.exists(path):
        missing.append(path)
        continue
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("bootstrap")
        head = z.open(info).read(20)
    # ELF e_machine (little-endian, offset 18): 183 is AArch64.
    arch = "arm64" if head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 183 else "NOT arm64"
    zipped = os.path.getsize(path)
    over = [] + (["binary over 6 MB"] if info.file_size > 6 * MB else []) + (["zip over 3 MB"] if zipped > 3 * MB else [])
    print(f"{f:<26} {info.file_size:>16,} {zipped:>20,}  {arch}" + (f"  ({', '.join(over)})" if over else ""))
    if arch != "arm64":
        missing.append(f"{path} (not an arm64 binary)")
if missing:
    sys.exit("missing: " + ", ".join(missing))
PY
