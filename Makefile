# postern: the two commands are `make run` and `make test`.
# Both install what is missing (scripts/deps.sh) and build first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
RUN_DIR    ?= run
PYTHON     ?= /usr/bin/python3
PYTEST     = $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: all deps build run test unit integration asan fuzz format clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# A local server on unprivileged ports (DESIGN.md section 1 plus 10000),
# state in ./run, logs on stderr. Ctrl-C stops it.
run: build
	@test -f $(RUN_DIR)/postern.conf || \
		./$(BUILD)/postern init $(RUN_DIR) --port-base 10000 \
			--hostname localhost --domain localhost
	@./$(BUILD)/postern domain list -c $(RUN_DIR)/postern.conf | \
		grep -qx localhost || \
		./$(BUILD)/postern domain add localhost -c $(RUN_DIR)/postern.conf
	@./$(BUILD)/postern user list localhost -c $(RUN_DIR)/postern.conf | \
		cut -f1 | grep -qx demo@localhost || \
		printf 'demo\n' | ./$(BUILD)/postern user add demo@localhost \
			--password-stdin -c $(RUN_DIR)/postern.conf
	@echo "postern: listening on 127.0.0.1:"
	@sed -n 's/.*service = "\([a-z0-9]*\)".*port = \([0-9]*\); tls = "\([a-z]*\)".*/  \2  \1 (\3)/p' \
		$(RUN_DIR)/postern.conf
	@echo "postern: demo account: user demo@localhost, password demo"
	@echo "postern: try: swaks --server 127.0.0.1:10025 --to demo@localhost"
	@echo "postern: read: curl -k 'imaps://127.0.0.1:10993/INBOX;UID=1' -u demo@localhost:demo"
	exec ./$(BUILD)/postern serve -c $(RUN_DIR)/postern.conf

test: build unit integration

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

integration: build
	POSTERN_BIN=$(abspath $(BUILD))/postern $(PYTEST) tests/integration

# AddressSanitizer + UndefinedBehaviorSanitizer build, all tests.
asan: deps
	@test -f $(ASAN_BUILD)/build.ninja || \
		meson setup $(ASAN_BUILD) -Dwerror=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dbuildtype=debug
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		POSTERN_BIN=$(abspath $(ASAN_BUILD))/postern $(PYTEST) tests/integration

# libFuzzer targets (clang), each run for FUZZ_SECONDS on its corpus.
fuzz: deps
	@test -f $(FUZZ_BUILD)/build.ninja || \
		CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false \
			-Db_lundef=false
	ninja -C $(FUZZ_BUILD)
	@for t in $$(find $(FUZZ_BUILD)/tests/fuzz -maxdepth 1 -type f \
			-name 'fuzz_*' -perm -u+x | sort); do \
		name=$$(basename $$t); name=$${name#fuzz_}; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$name tests/fuzz/corpus/$$name \
			2>$(FUZZ_BUILD)/fuzz_$$name.log || \
			{ tail -50 $(FUZZ_BUILD)/fuzz_$$name.log; exit 1; }; \
	done

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
