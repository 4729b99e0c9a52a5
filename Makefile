# uvfio — the two commands a newcomer needs:
#   make demo    build, start a private daemon, run the edu example driver (group
#                path, then device cdev + iommufd)
#   make check   install what is needed, build, run the whole suite (also
#                under ASan+UBSan, and a short run of each fuzzer)
# and `make bench` for the benchmarks, `make fuzz` (FUZZ_SECONDS per fuzzer).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON_OPTS ?=
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZERS = fuzz_wire fuzz_ioctl fuzz_ioctl_codec fuzz_topology

# Debian packages the build and the test suite need.
DEPS = meson ninja-build pkg-config gcc libc6-dev libjson-c-dev libcmocka-dev libbsd-dev \
       libpcap-dev libzydis-dev python3 clang libclang-rt-14-dev
# Real, unmodified clients the suite drives (tests/clients).
CLIENT_DEPS = qemu-system-x86 dpdk dpdk-dev linux-image-cloud-amd64 busybox-static iproute2 \
              iputils-ping debootstrap
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps client-deps build build-asan build-fuzz demo check fuzz bench clean

all: build

deps client-deps: PACKAGES = $(if $(filter client-deps,$@),$(CLIENT_DEPS),$(DEPS))
deps client-deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug $(MESON_OPTS)

# libFuzzer harnesses (fuzz/): a clang build of the daemon's code with
# ASan+UBSan, only the fuzzers built.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) $(addprefix fuzz/,$(FUZZERS))

demo: build
	@echo "== edu-demo through a container and the device's group =="
	$(BUILD)/uvfio run -- $(BUILD)/examples/edu-demo
	@echo "== edu-demo through the device cdev and /dev/iommu =="
	$(BUILD)/uvfio run -- $(BUILD)/examples/edu-demo --cdev

check: client-deps build build-asan build-fuzz
	FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) tests/run-suite --fuzz $(FUZZ_BUILD) \
		$(BUILD) $(ASAN_BUILD)

fuzz: build-fuzz
	fuzz/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

bench: build client-deps
	$(BUILD)/bench/run-bench $(BUILD)
	@echo
	@echo "=== DPDK testpmd, virtio-net with the loopback back end ==="
	bash bench/bench_testpmd.sh $(BUILD)
	@echo
	@echo "=== a Linux guest under QEMU on uvfio's virtio-net (tap back end) ==="
	bash bench/bench_guest.sh $(BUILD)/uvfio
	@echo
	@echo "=== migration with QEMU 10 (Debian 13 root): VMs, then a pinged Linux guest ==="
	bash tests/clients/qemu10_migration.sh $(BUILD)/uvfio

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
