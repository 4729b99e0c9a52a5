# uvfio — the two commands a newcomer needs:
#   make demo    build, start a private daemon, run the edu example driver (group
#                path, then device cdev + iommufd)
#   make check   install what is needed, build, run the whole suite (also
#                under ASan+UBSan)
# and `make bench` for the benchmarks.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=

# Debian packages the build and the test suite need.
DEPS = meson ninja-build pkg-config gcc libc6-dev libjson-c-dev libcmocka-dev libbsd-dev \
       libpcap-dev libzydis-dev python3
# Real, unmodified clients the suite drives (tests/clients).
CLIENT_DEPS = qemu-system-x86 dpdk dpdk-dev linux-image-cloud-amd64 busybox-static iproute2 \
              iputils-ping
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps client-deps build build-asan demo check bench clean

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

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

demo: build
	@echo "== edu-demo through a container and the device's group =="
	$(BUILD)/uvfio run -- $(BUILD)/examples/edu-demo
	@echo "== edu-demo through the device cdev and /dev/iommu =="
	$(BUILD)/uvfio run -- $(BUILD)/examples/edu-demo --cdev

check: client-deps build build-asan
	tests/run-suite $(BUILD) $(ASAN_BUILD)

bench: build client-deps
	$(BUILD)/bench/run-bench $(BUILD)
	@echo
	@echo "=== DPDK testpmd, virtio-net with the loopback back end ==="
	bash bench/bench_testpmd.sh $(BUILD)
	@echo
	@echo "=== a Linux guest under QEMU on uvfio's virtio-net (tap back end) ==="
	bash bench/bench_guest.sh $(BUILD)/uvfio

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
