# SPDX-License-Identifier: GPL-2.0
# rsiscsi top-level targets. Kernel builds are cached outside git
# (~/.cache/rsiscsi, keyed by kernel version + config); see scripts/.
#
#   make            the module (and, once, the test kernel it builds against)
#   make check      every test: host (cargo, fuzz smoke, interop) and guest
#   make demo       boot the guest and show what rsiscsi does
#   make bench      rsiscsi vs open-iscsi / dm-multipath, as ratios
#   make fuzz       10 million executions of every fuzz target (FUZZ_RUNS)
#   make soak       long guest runs: memory pressure, random faults, module loads
#   make setup      install build and test dependencies

SHELL := /bin/bash
VARIANT ?= test

.PHONY: all module setup kernel check check-host check-guest demo bench fuzz soak vm clean

all: module

setup:
	scripts/setup.sh

kernel: setup
	scripts/kernel-build.sh $(VARIANT)

module: setup
	scripts/module-build.sh $(VARIANT)

check:
	scripts/check.sh

check-host:
	RSISCSI_CHECK_ONLY=host scripts/check.sh

check-guest:
	RSISCSI_CHECK_ONLY=guest scripts/check.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

fuzz:
	scripts/fuzz.sh

soak:
	scripts/soak.sh

# make vm CMD='./run.sh test_module_01_load.sh': one guest command, console to stdout.
vm: setup
	scripts/vm-run.sh -v $(VARIANT) -- $(or $(CMD),./run.sh)

clean:
	rm -rf build target
