# listkeeper: the front door. `make run` and `make check` do all the set-up.
JOBS     ?= $(shell nproc)
BUILD    ?= build
ASAN     ?= build-asan
FUZZB    ?= build-fuzz
RUNDIR   ?= run
PREFIX   ?= /usr/local
FUZZ_SECONDS ?= 300

.PHONY: all deps build asan fuzz-build check unit asan-check fuzz-smoke fuzz lint run bench install man clean format

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN)/Makefile: CMakeLists.txt
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DLK_SANITIZE=ON >/dev/null

asan: $(ASAN)/Makefile
	cmake --build $(ASAN) -j $(JOBS)

$(FUZZB)/Makefile: CMakeLists.txt
	CC=clang cmake -S . -B $(FUZZB) -DCMAKE_BUILD_TYPE=Debug -DLK_FUZZ=ON >/dev/null

fuzz-build: $(FUZZB)/Makefile
	cmake --build $(FUZZB) -j $(JOBS)

lint:
	@bash scripts/check-banned.sh

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan-check: asan
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# Replays the committed seed corpus and explores a few seconds per harness.
fuzz-smoke: fuzz-build
	@bash scripts/fuzz.sh $(FUZZB) 10

# Long exploration: FUZZ_SECONDS per harness.
fuzz: deps fuzz-build
	@bash scripts/fuzz.sh $(FUZZB) $(FUZZ_SECONDS)

check: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory asan-check
	@$(MAKE) --no-print-directory fuzz-smoke
	@echo "make check: all passed"

run: deps build
	@bash scripts/run.sh $(BUILD)/listkeeper $(RUNDIR)

bench: deps build
	@for b in bench/*.sh; do echo "== $$b"; bash $$b $(BUILD)/listkeeper || exit 1; done

man: $(BUILD)/listkeeper.1

$(BUILD)/listkeeper.1: docs/listkeeper.1.scd
	@mkdir -p $(BUILD)
	scdoc < $< > $@

install: build man
	install -D -m 0755 $(BUILD)/listkeeper $(DESTDIR)$(PREFIX)/bin/listkeeper
	install -D -m 0644 $(BUILD)/listkeeper.1 $(DESTDIR)$(PREFIX)/share/man/man1/listkeeper.1
	install -D -m 0644 conf/listkeeper.conf.example $(DESTDIR)$(PREFIX)/share/doc/listkeeper/listkeeper.conf.example

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZB)
