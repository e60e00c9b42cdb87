# bootstrap's build. `make plan` and `make test` are the two commands the
# README promises work on a fresh machine.
GO ?= go
BIN := bin/bootstrap

.PHONY: build plan test test-short lint scan bench-up clean

build:
	$(GO) build -o $(BIN) ./cmd/bootstrap

# The main job on the built-in defaults: no AWS account, no config file.
plan: build
	./$(BIN) plan --env production

# Every test, with the real parts (moto, terraform, helm, a local Kubernetes
# control plane) installed and started first.
test:
	hack/test.sh

# The inner loop: unit tests only, no real parts.
test-short:
	$(GO) test -short ./...

# trivy's misconfiguration checks over terraform/stateful, offline; fails on
# HIGH or CRITICAL (builds trivy at a pinned version on first use).
scan:
	hack/scan.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The critical-path benchmark: up and teardown with every AWS, eksctl,
# Terraform and Helm step replaced by a replay of its duration on AWS (1
# minute = 1 second), through the real runner and waiting steps. Prints wall
# time, sum of phases and critical path; fails when wall time is more than 5%
# over the critical path.
bench-up:
	$(GO) run ./test/benchup

clean:
	rm -rf bin .bootstrap
