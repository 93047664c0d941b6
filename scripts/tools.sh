# shellcheck shell=bash
# Sourced by the build, deploy and check scripts: command-line tools from PyPI, each in its own
# virtual environment under $HIREBRIDGE_TOOLS (default ~/.cache/hirebridge-tools), installed the
# first time they are needed. Nothing is installed into the system Python or the repository.
HIREBRIDGE_TOOLS="${HIREBRIDGE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/hirebridge-tools}"

# tool_venv NAME REQUIREMENT... : makes sure $HIREBRIDGE_TOOLS/NAME has the requirements and
# prints its bin directory.
tool_venv() {
  local name=$1
  shift
  local dir="$HIREBRIDGE_TOOLS/$name"
  local stamp="$dir/.requirements"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
    echo "installing $* into $dir (PyPI)" >&2
    if ! python3 -m venv "$dir" >&2; then
      echo "python3 -m venv failed: install Python's venv module (Debian: apt-get install python3-venv)" >&2
      return 1
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$@" >&2
    printf '%s' "$*" >"$stamp"
  fi
  echo "$dir/bin"
}

# cargo-lambda (it brings zig, its cross linker): the one on PATH, else our own.
ensure_cargo_lambda() {
  if cargo lambda --help >/dev/null 2>&1 && { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }; then
    return 0
  fi
  local bin
  bin=$(tool_venv cargo-lambda 'cargo-lambda>=1.9,<2') || return 1
  export PATH="$bin:$PATH"
}

# The Rust standard library for Lambda's arm64 (Graviton) machines.
ensure_arm64_target() {
  local target=aarch64-unknown-linux-gnu
  if [ -d "$(rustc --print sysroot)/lib/rustlib/$target/lib" ]; then
    return 0
  fi
  echo "installing the Rust target $target (rustup)" >&2
  if ! command -v rustup >/dev/null 2>&1 || ! rustup target add "$target" >&2; then
    echo "the Rust target $target is missing and rustup could not install it: run 'rustup target add $target'" >&2
    return 1
  fi
}

# AWS SAM CLI, and the OpenAPI validator the checks use.
ensure_sam() {
  local bin
  bin=$(tool_venv sam 'aws-sam-cli>=1.170,<2' 'openapi-spec-validator>=0.7,<1') || return 1
  # shellcheck disable=SC2034 # used by the scripts that source this file
  SAM="$bin/sam"
  # shellcheck disable=SC2034
  SAM_PYTHON="$bin/python"
  export SAM_CLI_TELEMETRY=0
}
