# Every routine task is a target here. `make test` is what CI runs (through .ci/run).
CARGO  ?= cargo
VENV   ?= .venv
PYTHON ?= python3
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: all build release venv bench-venv test fmt lint deps-check check-windows demo sandbox completions bench bench-scale fuzz install uninstall clean

all: build

build:
	$(CARGO) build --workspace --bins

release:
	$(CARGO) build --workspace --release --bins

# The sandbox's Python side (moto for IAM/STS, boto3 and awscli v1 as reference clients), pinned.
venv: $(VENV)/.installed
$(VENV)/.installed: tests/sandbox/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/sandbox/requirements.txt
	touch $@

test: venv build
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# One smithy generation and one HTTP stack (a second aws-smithy-* or http major doubles build
# time and binary size), and no declared dependency left unused (`cargo install cargo-machete`).
deps-check:
	@dups=$$($(CARGO) tree -d --workspace -e normal | grep -E '^(aws-smithy-[a-z-]+|http|hyper|rustls) v' | sort -u); \
	if [ -n "$$dups" ]; then echo "duplicated AWS/HTTP crates:"; echo "$$dups"; exit 1; fi
	$(CARGO) machete

# Most users are on macOS and Windows: the workspace must keep compiling for Windows
# (`rustup target add x86_64-pc-windows-gnu`; gcc-mingw-w64-x86-64 for aws-lc-sys).
check-windows:
	$(CARGO) check --workspace --target x86_64-pc-windows-gnu

demo: venv build
	bash tests/sandbox/demo.sh

# The sandbox in the foreground, for trying the tools by hand (prints the variables to export).
sandbox: venv
	$(CARGO) run --quiet -p e2e --bin aws-sandbox -- --scenario tests/sandbox/scenario.json --with-moto --auto-approve

PREFIX ?= $(HOME)/.local
ALIAS_FILE ?= $(HOME)/.aws/cli/alias

# Release binaries, completions, man pages into PREFIX, and the AWS CLI aliases (between markers).
install: release
	$(CARGO) run --quiet -p e2e --bin dev-tasks -- install "$(PREFIX)" target/release "$(ALIAS_FILE)"

uninstall:
	$(CARGO) run --quiet -p e2e --bin dev-tasks -- uninstall "$(PREFIX)" "$(ALIAS_FILE)"

# Rewrites completions/ from the built binaries (a test fails when they are stale).
completions: build
	$(CARGO) run --quiet -p e2e --bin dev-tasks -- completions completions target/debug

# Each fuzz target for FUZZ_SECONDS (600 by default), from a small committed seed set (the AWS
# config corpus for the INI targets); the growing corpus stays in tests/fuzz/corpus (not tracked).
# Found inputs go to tests/fuzz/artifacts and become named regression tests beside the code
# (shared/tests/data/fuzz-regressions-*). `cargo install cargo-fuzz` first. RUSTC_BOOTSTRAP lets
# the stable toolchain take the sanitizer flags cargo-fuzz passes.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= ini_document ini_value_roundtrip policy_evaluator cache_json credential_process
fuzz:
	for t in $(FUZZ_TARGETS); do \
	  seeds=tests/fuzz/seeds/$$t; [ $$t = ini_document ] && seeds=shared/tests/data/config; \
	  mkdir -p tests/fuzz/corpus/$$t && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz $$t tests/fuzz/corpus/$$t $$seeds -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf $(VENV)

# Side-by-side figures on the sandbox (release build); writes BENCHMARKS.md and bench/results.json.
bench: venv bench-venv release
	$(CARGO) run --quiet --release -p e2e --bin bench -- --target-dir target/release $(BENCH_ARGS)

# The scale section (about twenty minutes): sync at 1k/3k/10k accounts x 5 roles throttled at
# 20 requests/s, organisation audits of 20/50/200 accounts; SVG plots in bench/.
bench-scale: venv release
	$(CARGO) run --quiet --release -p e2e --bin bench -- --target-dir target/release --only scale $(BENCH_ARGS)

# The peers we compare with (PyPI, pinned), apart from the test venv so their pins cannot clash.
bench-venv: .venv-bench/.installed
.venv-bench/.installed: tests/sandbox/bench-requirements.txt
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet --disable-pip-version-check -r tests/sandbox/bench-requirements.txt
	touch $@
