# bootstrap's build. `make plan` and `make test` are the two commands the
# README promises work on a fresh machine.
GO ?= go
BIN := bin/bootstrap

.PHONY: build plan test test-short lint bench-up clean

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

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin .bootstrap
