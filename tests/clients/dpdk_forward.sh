#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unmodified DPDK 22.11 (Debian 12's dpdk-testpmd) forwards real traffic
# through uvfio's virtio-net model: `--forward-mode=io` with one port in loop
# topology sends every frame it receives back out of the same port,
# unchanged.
#
#   pcap  The NIC's wire is a pair of capture files (back end "pcap"): it
#         receives the 1000 UDP frames of a capture this test writes
#         (64..1514 bytes, numbered) and writes what it transmits to a
#         second capture.  That capture must hold the same 1000 frames, byte
#         for byte, in order, and testpmd's own counters must say 1000 in,
#         1000 out.
#   tap   The NIC's wire is a tap interface (back end "tap") in a network
#         namespace of this test: the daemon runs there (`ip netns exec`),
#         testpmd outside it (`uvfio run --connect`: the daemon's socket is
#         a file).  500 numbered frames sent into the tap through a packet
#         socket must all come back, in order, and testpmd's counters must
#         say 500 in, 500 out.  Without /dev/net/tun or `ip netns` this part
#         says "tap: NOT RUN (reason)" and the verdict is the pcap part's.
#
# Usage: dpdk_forward.sh UVFIO_CLI
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"
. "$here/testpmd_lib.sh"

uvfio=$1
bdf=0000:10:03.0
frames="$here/net_frames.py"
pcap_frames=1000
tap_frames=500
tap_if=uvfiofwd0

need_program dpdk-testpmd dpdk-dev
need_program python3 python3

work=$(mktemp -d)
ns=
daemon_pid=
pmd_pid=
cleanup()
{
	[ -n "$pmd_pid" ] && kill "$pmd_pid" 2>/dev/null && wait "$pmd_pid"
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	[ -n "$ns" ] && ip netns del "$ns"
	rm -rf "$work"
}
trap cleanup EXIT

# start_daemon DIR TOPOLOGY [COMMAND PREFIX...]: the daemon, serving once
# `uvfio ls` answers.
start_daemon()
{
	local dir=$1 topology=$2

	shift 2
	"$@" "$uvfio" daemon --dir "$dir" --topology "$topology" >"$work/daemon.log" 2>&1 &
	daemon_pid=$!
	wait_daemon "$dir" && return 0
	cat "$work/daemon.log" >&2
	fail "the daemon on $dir did not start"
}

stop_daemon()
{
	kill "$daemon_pid"
	wait "$daemon_pid" || true
	daemon_pid=
}

# start_pmd DIR: testpmd io-forwarding on the daemon at DIR, at its prompt.
# --no-flush-rx: the device fills the receive ring as soon as the port
# starts, and those frames are part of the test.
start_pmd()
{
	start_testpmd "$1" uvfio-fwd --total-num-mbufs=2048 --forward-mode=io \
		--port-topology=loop --no-flush-rx
	grep -q "EAL: Probe PCI driver: net_virtio (1af4:1000) device: $bdf" "$work/out" ||
		fail "the virtio PMD did not probe $bdf"
}

# The RX-packets of testpmd's latest `show port stats 0`.
port_rx()
{
	sed -n 's/^ *RX-packets: *\([0-9]*\) *RX-missed.*/\1/p' "$work/out" | tail -n 1
}

# wait_port_rx N: shows the port's counters until it received N frames.
wait_port_rx()
{
	for _ in $(seq 60); do
		run_cmd "show port stats 0" || fail "testpmd did not show its port statistics"
		[ "$(port_rx)" = "$1" ] && return 0
		sleep 0.5
	done
	fail "testpmd's port 0 received $(port_rx) frames, want $1"
}

# stop_pmd: stops forwarding and quits; the forward statistics printed at
# `stop` go to $work/fwd.
stop_pmd()
{
	local status=0

	run_cmd stop || fail "testpmd did not finish \"stop\""
	stop_testpmd || status=$?
	[ "$status" -eq 0 ] || fail "testpmd exited with status $status"
	# Promiscuous mode needs a control queue, which the device does not
	# have; the MSI-X message is Linux's answer too (see dpdk_virtio.sh).
	# "RX-errors: 0" is a counter of the port statistics.
	if grep -iE "error|fail|cannot|could not" "$work/out" |
		grep -vE "Error disabling MSI-X interrupts|Error during enabling promiscuous mode" |
		grep -vE "Device error handling mode|[RT]X-errors: 0( |$)"; then
		fail "DPDK reported an error"
	fi
	sed -n '/Forward statistics for port 0/,/^  ---------/p' "$work/out" >"$work/fwd"
}

# check_forwarded N: testpmd's forward statistics say N in, N out.
check_forwarded()
{
	local rx tx

	rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$work/fwd" | head -n1)
	tx=$(sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' "$work/fwd" | head -n1)
	echo "testpmd port 0: RX-packets $rx, TX-packets $tx"
	[ -n "$rx" ] && [ -n "$tx" ] || fail "no forward statistics for port 0"
	[ "$rx" -eq "$1" ] || fail "testpmd received $rx frames, want $1"
	[ "$tx" -eq "$1" ] || fail "testpmd forwarded $tx frames, want $1"
}

# check_backend DIR N WHAT: the back end's counters in `uvfio stats` (the
# last transmissions may still be on their way when testpmd counts them).
check_backend()
{
	local line='' want="tx_frames $2, tx_dropped 0, rx_frames $2, rx_dropped 0$"

	for _ in $(seq 50); do
		line=$("$uvfio" stats --dir "$1" | grep "^$bdf: net ") ||
			fail "no back-end line in stats"
		echo "$line" | grep -q "$want" && break
		sleep 0.1
	done
	echo "$line"
	echo "$line" | grep -q "$want" ||
		fail "the $3 back end did not count $2 frames each way, none dropped"
	"$uvfio" stats --dir "$1" | grep -q "^$bdf: .*faults 0," || fail "the device had DMA faults"
}

# ---- pcap ----
python3 "$frames" gen "$work/in.pcap" "$pcap_frames"
cat >"$work/pcap.json" <<EOF
{ "groups": [ { "id": 13, "devices": [
    { "bdf": "$bdf", "model": "virtio-net",
      "args": { "backend": "pcap", "rx": "$work/in.pcap", "tx": "$work/out.pcap" } } ] } ] }
EOF
start_daemon "$work/pcap-host" "$work/pcap.json"
start_pmd "$work/pcap-host"
run_cmd start || fail "testpmd did not finish \"start\""
wait_port_rx "$pcap_frames"
check_backend "$work/pcap-host" "$pcap_frames" pcap
stop_pmd
check_forwarded "$pcap_frames"
python3 "$frames" cmp "$work/in.pcap" "$work/out.pcap" ||
	fail "the transmitted capture is not the received one"
stop_daemon
echo "pcap: PASS"

# ---- tap ----
skip=
if [ ! -c /dev/net/tun ]; then
	skip="no /dev/net/tun"
elif ! command -v ip >/dev/null; then
	skip="no ip command (iproute2)"
else
	ns=uvfio-fwd-$$
	if ! ip netns add "$ns" 2>"$work/netns.err"; then
		ns=
		skip="ip netns add: $(cat "$work/netns.err")"
	fi
fi
if [ -n "$skip" ]; then
	echo "################################################################"
	echo "tap: NOT RUN ($skip)"
	echo "################################################################"
	echo "PASS (pcap only)"
	exit 0
fi
# Without IPv6 the namespace sends nothing of its own through the tap, so
# testpmd's counters see only the test's frames.  (/proc/sys/net is the
# namespace's own; a kernel without IPv6 has nothing to switch off.)
if [ -d /proc/sys/net/ipv6 ]; then
	ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' ||
		fail "cannot switch IPv6 off in $ns"
fi
cat >"$work/tap.json" <<EOF
{ "groups": [ { "id": 13, "devices": [
    { "bdf": "$bdf", "model": "virtio-net",
      "args": { "backend": "tap", "ifname": "$tap_if" } } ] } ] }
EOF
start_daemon "$work/tap-host" "$work/tap.json" ip netns exec "$ns"
ip -n "$ns" link set "$tap_if" up || fail "cannot bring $tap_if up in $ns"
start_pmd "$work/tap-host"
run_cmd start || fail "testpmd did not finish \"start\""
ip netns exec "$ns" timeout 60 python3 "$frames" tap-echo "$tap_if" "$tap_frames" ||
	fail "the frames sent into $tap_if did not all come back"
wait_port_rx "$tap_frames"
check_backend "$work/tap-host" "$tap_frames" tap
stop_pmd
check_forwarded "$tap_frames"
stop_daemon
echo "tap: PASS"
echo "PASS"
