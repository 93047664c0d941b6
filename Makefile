# hirebridge — see README.md
.PHONY: dev demo probe test lint fmt build deploy bench

SECRETS ?= local/dev-secrets.json
ADDR ?= 127.0.0.1:3000

## Every function's routes on http://$(ADDR), embedded storage, the sandbox of the outside services
dev:
	cargo run -p hirebridge-local -- --addr $(ADDR) --secrets $(SECRETS)

## The recruitment story end to end against the local runner, printing each step
demo:
	cargo run -q -p hirebridge-local -- demo --secrets $(SECRETS)

## Go-live check, read-only: each outside contract with the real credentials, one line each
## (deployed secrets from Secrets Manager; SECRETS=FILE for a file; SANDBOX=URL for `make dev`'s
## sandbox; PROBE_ARGS for more flags, see `hirebridge-local probe --help`). Exit 1 if one differs.
probe:
	cargo run -q -p hirebridge-local -- probe $(if $(filter command line environment,$(origin SECRETS)),--secrets $(SECRETS)) $(if $(SANDBOX),--sandbox $(SANDBOX)) $(PROBE_ARGS)

## Unit and integration tests against a local DynamoDB/Secrets Manager API (moto)
test:
	bash scripts/test.sh

## rustfmt, clippy, then cfn-lint, `sam validate --lint` and openapi.yaml against template.yaml's routes
lint:
	cargo fmt --all --check
	CARGO_PROFILE_DEV_DEBUG=0 cargo clippy --workspace --all-targets -- -D warnings
	bash scripts/sam-validate.sh

fmt:
	cargo fmt --all

## The six functions for arm64: target/lambda/<function>/bootstrap.zip and their sizes
## (installs cargo-lambda, with zig, and the aarch64 Rust target when missing)
build:
	bash scripts/build.sh

## sam build && sam deploy with samconfig.toml; guided the first time (or GUIDED=1)
deploy:
	bash scripts/deploy.sh

## Each function in a local Lambda environment beside the floor; writes docs/benchmarks.md
bench:
	bash scripts/bench.sh
