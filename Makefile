# BB Gateway: thin wrapper over CMake presets. See README.md.
PRESET ?= dev
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: deps configure build pki run test bench clean format fuzz

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

pki: deps
	@bash certs/make-dev-pki.sh var/certs

run: build pki
	@$(BUILD)/gateway/app/bbgw serve $(if $(CONFIG),--config $(CONFIG),)

test: build pki fuzz
	@ctest --preset $(PRESET) -j $(JOBS)

fuzz: deps
	@cmake -S tests/fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null && cmake --build build/fuzz -j $(JOBS)

bench:
	@$(MAKE) --no-print-directory PRESET=release build pki
	@bash bench/run.sh

format:
	@git ls-files '*.hpp' '*.cpp' | xargs clang-format -i

clean:
	@rm -rf build
