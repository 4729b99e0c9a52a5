#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench_testpmd.sh BUILD_DIR: packets per second through the emulated
# virtio-net NIC (0000:10:03.0, loopback back end), as Debian's unmodified
# dpdk-testpmd counts them, with 64- and 1500-byte frames:
#
#   io forward   `start tx_first 4`: 128 frames go round for ever (testpmd
#                sends, the loopback returns them, testpmd forwards them
#                again), so every frame is one receive and one transmit.
#   txonly       testpmd only sends; the loopback returns what the receive
#                ring takes and drops the rest (nobody polls the ring).
#
# Each mode runs 5 s between two `show port stats 0`; the rates are
# testpmd's own Rx-pps/Tx-pps for that interval.  io forward runs twice in
# the same run: "socket" with UVFIO_SLOT=0, every call on the socket as
# before the fast path, then "slot", on the shared call slot with posted
# doorbell writes.  Beside them, the trapped
# register access round trip (bench_access against the same daemon): the
# driver pays one per doorbell (QUEUE_NOTIFY), one per burst of up to 32
# frames on each queue.
#
# Unpinned: testpmd busy-polls on its forwarding lcore, so the daemon must
# not share a CPU with it.  Without dpdk-testpmd (Debian dpdk-dev) it says
# so and exits 0.
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/../tests/clients/lib.sh"
. "$here/../tests/clients/testpmd_lib.sh"
build=${1:?usage: bench_testpmd.sh BUILD_DIR   (run from the source tree)}
uvfio="$build/uvfio"
bdf=0000:10:03.0
seconds=5

if ! command -v dpdk-testpmd >/dev/null; then
	echo "bench_testpmd: dpdk-testpmd not installed (Debian package dpdk-dev): NOT RUN"
	exit 0
fi

work=$(mktemp -d)
daemon_pid=
pmd_pid=
cleanup()
{
	[ -n "$pmd_pid" ] && kill "$pmd_pid" 2>/dev/null && wait "$pmd_pid"
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	rm -rf "$work"
}
trap cleanup EXIT

fail()
{
	echo "bench_testpmd: $*" >&2
	[ -s "$work/out" ] && grep -v "open shared lib" "$work/out" | tail -n 30 >&2
	exit 1
}

# The value of FIELD ("Rx-pps", "Tx-pps") in testpmd's latest port stats.
latest()
{
	sed -n "s/.*$1: *\([0-9]*\).*/\1/p" "$work/out" | tail -n 1
}

"$uvfio" daemon --dir "$work/host" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_daemon "$work/host" || fail "the daemon did not start"
"$uvfio" ls --dir "$work/host" | grep -q "^$bdf .*virtio-net" || fail "no daemon with $bdf"

# measure SIZE MODE START LABEL: one testpmd run; prints the figures' line.
measure()
{
	local size=$1 mode=$2 start=$3 label=$4 rx tx

	start_testpmd "$work/host" uvfio-bench --total-num-mbufs=4096 --txpkts="$size" \
		--port-topology=loop
	{ run_cmd "set fwd $mode" && run_cmd "$start"; } || fail "testpmd did not start forwarding"
	sleep 1
	run_cmd "show port stats 0" || fail "no port statistics"
	sleep "$seconds"
	run_cmd "show port stats 0" || fail "no port statistics"
	rx=$(latest Rx-pps)
	tx=$(latest Tx-pps)
	run_cmd stop || fail "testpmd did not stop"
	stop_testpmd || fail "testpmd failed"
	[ -n "$rx" ] && [ -n "$tx" ] || fail "no Rx-pps/Tx-pps in testpmd's statistics"
	# txonly never polls the receive ring: no RX figure there
	[ "$mode" = txonly ] && rx=-
	awk -v m="$mode" -v l="$label" -v s="$size" -v rx="$rx" -v tx="$tx" 'BEGIN {
		printf "  %-6s %-6s %4d-byte frames   RX %9s pps  TX %9d pps  (TX %7.1f Mbit/s)\n",
		       m, l, s, rx, tx, tx * s * 8 / 1e6 }'
}

echo "DPDK testpmd through uvfio's virtio-net, loopback back end ($seconds s each, unpinned):"
for size in 64 1500; do
	UVFIO_SLOT=0 measure "$size" io "start tx_first 4" socket
	measure "$size" io "start tx_first 4" slot
done
for size in 64 1500; do
	measure "$size" txonly start slot
done
line=$("$uvfio" stats --dir "$work/host" | grep "^$bdf: net ") || fail "no back-end counters"
echo "  back end after all runs: ${line#"$bdf: "}"

# The doorbell: the same trapped access path, measured on the same daemon.
print_doorbell "$uvfio" "$work/host" "$build/bench/bench_access"
