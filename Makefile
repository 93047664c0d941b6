# hirebridge — see README.md
.PHONY: dev demo test lint fmt build deploy bench

SECRETS ?= local/dev-secrets.json
ADDR ?= 127.0.0.1:3000

## Every function's routes on http://$(ADDR), embedded storage, the sandbox of the outside services
dev:
	cargo run -p hirebridge-local -- --addr $(ADDR) --secrets $(SECRETS)

## The recruitment story end to end against the local runner, printing each step
demo:
	cargo run -q -p hirebridge-local -- demo --secrets $(SECRETS)

## Unit and integration tests against a local DynamoDB/Secrets Manager API (moto)
test:
	bash scripts/test.sh

lint:
	cargo fmt --all --check
	CARGO_PROFILE_DEV_DEBUG=0 cargo clippy --workspace --all-targets -- -D warnings
	cfn-lint template.yaml

fmt:
	cargo fmt --all

## Release binaries for Lambda (needs cargo-lambda and zig)
build:
	cargo lambda build --release --arm64

deploy:
	sam build && sam deploy --guided

## Release binary sizes and the CPU of a warm webhook's own work
bench:
	bash scripts/bench.sh
