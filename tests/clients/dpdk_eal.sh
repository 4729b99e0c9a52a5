#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unmodified DPDK 22.11 (Debian 12's dpdk-testpmd) initialises its VFIO layer
# against uvfio: EAL finds the vfio module in the redirected /sys/module,
# opens /dev/vfio/vfio (a uvfio container), checks the API version and the
# IOMMU types, and scans uvfio's PCI devices.  No DPDK PMD claims edu
# (1234:11e8) or ramdev (1234:11e9), so EAL never opens a group or a device:
# this test covers the container level only, and checks it from both sides
# (EAL's log and the daemon's count of open files).
#
# Usage: dpdk_eal.sh UVFIO_CLI
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

uvfio=$1
bdf=0000:10:00.0

need_program dpdk-testpmd dpdk-dev

work=$(mktemp -d)
daemon_pid=
pmd_pid=
cleanup()
{
	[ -n "$pmd_pid" ] && kill "$pmd_pid" 2>/dev/null
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	rm -rf "$work"
}
trap cleanup EXIT

fail()
{
	echo "FAIL: $*" >&2
	[ -s "$work/out" ] && grep -v "open shared lib\|log level changed" "$work/out" | tail -n 40 >&2
	exit 1
}

# files_open: the daemon's count of open VFIO files (containers, groups, devices).
files_open()
{
	"$uvfio" stats --dir "$work/host" | sed -n 's/^files open: //p'
}

"$uvfio" daemon --dir "$work/host" &
daemon_pid=$!
for _ in $(seq 100); do
	"$uvfio" ls --dir "$work/host" >/dev/null 2>&1 && break
	sleep 0.1
done
[ "$(files_open)" = 0 ] || fail "daemon not serving, or files open before DPDK ran"

# testpmd interactive, fed through a FIFO so it stays up while we look at the
# daemon.  Only the uvfio device is allowed, and a private file prefix keeps
# it away from any other DPDK process on the machine.
mkfifo "$work/in"
exec 3<>"$work/in"
timeout --kill-after=5 60 "$uvfio" run --connect "$work/host" -- \
	dpdk-testpmd -a "$bdf" --no-huge -m 64 --file-prefix "uvfio-test-$$" \
	--log-level=lib.eal:debug -- -i --total-num-mbufs=2048 \
	<&3 >"$work/out" 2>&1 &
pmd_pid=$!

for _ in $(seq 300); do
	grep -q "testpmd> " "$work/out" && break
	kill -0 "$pmd_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "testpmd> " "$work/out" || fail "testpmd did not reach its prompt"

open_running=$(files_open)
echo quit >&3
status=0
wait "$pmd_pid" || status=$?
pmd_pid=
open_after=$(files_open)

grep -v "open shared lib\|log level changed" "$work/out" | grep -E "VFIO|IOMMU|IOVA|Bye"
[ "$status" -eq 0 ] || fail "testpmd exited with status $status"
grep -q "EAL: VFIO support initialized" "$work/out" || fail "EAL did not initialise VFIO"
grep -q "EAL: IOMMU type 1 (Type 1) is supported" "$work/out" ||
	fail "EAL did not find the type1 IOMMU"
if grep -iE "vfio|iommu" "$work/out" | grep -iE "error|fail|cannot|could not"; then
	fail "EAL reported a VFIO error"
fi
# While testpmd ran, its default container was the one open file; once it
# exited, nothing was left behind.
[ "$open_running" = 1 ] || fail "daemon saw $open_running open files while testpmd ran, want 1"
[ "$open_after" = 0 ] || fail "daemon saw $open_after open files after testpmd exited, want 0"
echo "PASS"
