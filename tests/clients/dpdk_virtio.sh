#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unmodified DPDK 22.11 (Debian 12's dpdk-testpmd) drives uvfio's virtio-net
# model (0000:10:03.0, loopback back end) with its legacy virtio PMD: EAL
# opens the container, the group and the device, the PMD probes the port
# over I/O-BAR pread/pwrite, sets up both virtqueues in DMA-mapped memory
# and brings the link up.  Then testpmd sends one burst (`start tx_first`)
# in rxonly mode: the loopback returns every frame, so testpmd's own
# counters must show as many packets received as sent (32).
#
# Usage: dpdk_virtio.sh UVFIO_CLI
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"
. "$here/testpmd_lib.sh"

uvfio=$1
bdf=0000:10:03.0

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

files_open()
{
	"$uvfio" stats --dir "$work/host" | sed -n 's/^files open: //p'
}

"$uvfio" daemon --dir "$work/host" &
daemon_pid=$!
wait_daemon "$work/host" || fail "the daemon did not start"
"$uvfio" ls --dir "$work/host" | grep -q "^$bdf .*1af4:1000 .*virtio-net" ||
	fail "the default host has no virtio-net function at $bdf"
[ "$(files_open)" = 0 ] || fail "daemon not serving, or files open before DPDK ran"

start_testpmd "$work/host" uvfio-virtio --total-num-mbufs=2048

# While testpmd holds the port: container, group and device are open.
open_running=$(files_open)
"$uvfio" ls --dir "$work/host" | grep -q "^$bdf .*device open" ||
	fail "the daemon does not show $bdf open"

for cmd in "show port info 0" "set fwd rxonly" "start tx_first"; do
	run_cmd "$cmd" || fail "testpmd did not finish \"$cmd\""
done
# the burst goes out before forwarding starts; give the receive side a moment
sleep 1
run_cmd stop || fail "testpmd did not finish \"stop\""
stats=$("$uvfio" stats --dir "$work/host")
status=0
stop_testpmd || status=$?
open_after=$(files_open)

grep -v "open shared lib\|log level changed" "$work/out" |
	grep -E "VFIO|Probe|virtio|Port 0|Driver name|Link status|-packets|Bye" || true
echo "$stats" | grep -E "files open|$bdf|group 13"

[ "$status" -eq 0 ] || fail "testpmd exited with status $status"
grep -q "EAL: Probe PCI driver: net_virtio (1af4:1000) device: $bdf" "$work/out" ||
	fail "the virtio PMD did not probe $bdf"
grep -q "Driver name: net_virtio" "$work/out" || fail "port 0 is not a virtio port"
grep -q "Link status: up" "$work/out" || fail "the link is not up"
grep -qE "^Port 0: ([0-9A-F]{2}:){5}[0-9A-F]{2}" "$work/out" || fail "port 0 has no MAC"
# Two messages are what Linux's vfio-pci and a virtio device without a
# control queue give too: the PMD disables MSI-X before it ever enabled it
# (the kernel answers EINVAL), and promiscuous mode needs the control queue.
if grep -iE "error|fail|cannot|could not" "$work/out" |
	grep -vE "Error disabling MSI-X interrupts|Error during enabling promiscuous mode" |
	grep -v "Device error handling mode"; then
	fail "DPDK reported an error"
fi

# testpmd's own counters for port 0: what it sent came back.
block=$(sed -n '/Forward statistics for port 0/,/^  ---------/p' "$work/out" | tail -n +2)
rx=$(echo "$block" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n1)
tx=$(echo "$block" | sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | head -n1)
echo "port 0: TX-packets $tx, RX-packets $rx"
[ -n "$rx" ] && [ -n "$tx" ] || fail "no forward statistics for port 0"
[ "$tx" -eq 32 ] || fail "testpmd sent $tx packets, want one burst of 32"
[ "$rx" -eq "$tx" ] || fail "testpmd received $rx packets of the $tx it sent"

# The device reached memory only where DPDK mapped it.
echo "$stats" | grep -q "^$bdf: .*faults 0," || fail "the device had DMA faults"
[ "$open_running" = 3 ] ||
	fail "daemon saw $open_running open files while testpmd ran, want 3"
[ "$open_after" = 0 ] || fail "daemon saw $open_after open files after testpmd exited, want 0"
echo "PASS"
