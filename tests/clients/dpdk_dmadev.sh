#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unmodified DPDK 22.11 (Debian 12's dpdk-test) runs its dmadev suite on
# uvfio's I/OAT engine (0000:10:04.0): the dmadev_ioat PMD maps BAR0 whole and
# drives the channel with loads and stores to its registers (trapped by the
# shim), puts its descriptor ring and completion word in DMA-mapped memory,
# and the suite runs copies of many sizes, burst capacity, error handling
# (copies from address 0, which the IOMMU refuses: each failed operation must
# be reported as such and the channel recovered) and fill.
#
# Usage: dpdk_dmadev.sh UVFIO_CLI
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"
. "$here/testpmd_lib.sh"

uvfio=$1
bdf=0000:10:04.0

need_program dpdk-test dpdk-dev

work=$(mktemp -d)
daemon_pid=
cleanup()
{
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	rm -rf "$work"
}
trap cleanup EXIT

"$uvfio" daemon --dir "$work/host" &
daemon_pid=$!
wait_daemon "$work/host" || fail "the daemon did not start"
"$uvfio" ls --dir "$work/host" | grep -q "^$bdf .*8086:2021 .*ioat" ||
	fail "the default host has no I/OAT function at $bdf"

status=0
DPDK_TEST=dmadev_autotest timeout 600 "$uvfio" run --connect "$work/host" -- \
	dpdk-test --no-huge -m 512 --no-telemetry -l 0-1 -a "$bdf" \
	>"$work/out" 2>&1 </dev/null || status=$?
# the suite rewrites one progress line with \r: keep its last state
tr '\r' '\n' <"$work/out" | grep -v "^Ops submitted" >"$work/log" || true
stats=$("$uvfio" stats --dir "$work/host")

grep -E "Probe PCI|###|DMA Dev|Test OK|Test Failed|^In " "$work/log" || true
echo "$stats" | grep "^$bdf"

[ "$status" -eq 0 ] || fail "dpdk-test exited with status $status"
grep -q "EAL: Probe PCI driver: dmadev_ioat (8086:2021) device: $bdf" "$work/log" ||
	fail "the ioat PMD did not probe $bdf"
grep -qx "Test OK" "$work/log" || fail "the dmadev suite did not pass"
dev=$(sed -n "s/^### Test dmadev instance \([0-9]*\) \[$bdf\]$/\1/p" "$work/log")
[ -n "$dev" ] || fail "the suite did not test $bdf"
for part in copy "burst capacity" "error handling" fill; do
	grep -q "^DMA Dev $dev: Running $part Tests" "$work/log" ||
		fail "the suite did not run its $part tests on $bdf"
done
grep -q "^DMA Dev $dev: .*skipping" "$work/log" && fail "the suite skipped tests on $bdf"

# The engine did the work, and the failures the suite provoked were real
# IOMMU faults, reported by the channel.
line=$(echo "$stats" | grep "^$bdf: channel")
descs=$(echo "$line" | sed -n 's/.* \([0-9]*\) descriptors.*/\1/p')
errors=$(echo "$line" | sed -n 's/.* \([0-9]*\) errors.*/\1/p')
[ "${descs:-0}" -gt 100000 ] || fail "the engine ran only ${descs:-0} descriptors"
[ "${errors:-0}" -gt 0 ] || fail "the engine reported no errors"
echo "$stats" | grep -q "^$bdf: dma .*faults [1-9]" || fail "no DMA fault was counted"
echo "PASS"
