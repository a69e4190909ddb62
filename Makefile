# Thin wrapper over CMake: the commands of the README.
#   make run    dependencies, build, install, start sentryd in the foreground
#   make test   dependencies with the test tools and the lab's kernel, format check, build, every
#               test (the real-kernel lab's too); again under ASan+UBSan; fuzz smoke
# Other targets: build, install, check (tests of the last build), asan, fuzz, bench, format.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= --output-on-failure --timeout 900
FUZZ_SECONDS ?= 20
CONFIG     ?= /etc/sentry/sentryd.conf
TESTS      ?= ON
C_FILES    = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^tests/fixtures/')

.PHONY: all deps test-deps build install run test check asan asan-check fuzz fuzz-smoke bench format \
        format-check clean

all: build

deps:
	./scripts/install-deps.sh

test-deps:
	./scripts/install-deps.sh --test --lab-cache $(BUILD)/vm

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTRY_WERROR=ON \
	      -DSENTRY_TESTS=$(TESTS) \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCMAKE_INSTALL_SYSCONFDIR=/etc \
	      -DCMAKE_INSTALL_LOCALSTATEDIR=/var
	cmake --build $(BUILD) -j $(JOBS)

install: build
	cmake --install $(BUILD)

# Running needs no test tool: the tests are not built (`make test` builds them in the same tree).
run: TESTS = OFF
run: deps install
	exec $(PREFIX)/sbin/sentryd --foreground --config $(CONFIG)

check:
	ctest --test-dir $(BUILD) -j $(JOBS) -LE 'bench|fuzz' $(CTEST_ARGS)

asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSENTRY_WERROR=ON -DSENTRY_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

asan-check: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(ASAN_BUILD) -j $(JOBS) -LE 'bench|fuzz' $(CTEST_ARGS)

fuzz:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DSENTRY_WERROR=ON -DSENTRY_FUZZ=ON -DSENTRY_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz-smoke: fuzz
	ctest --test-dir $(FUZZ_BUILD) -L fuzz $(CTEST_ARGS)

bench: build
	ctest --test-dir $(BUILD) -L bench --verbose

format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run -Werror $(C_FILES)

test: test-deps format-check build check asan-check fuzz-smoke

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
