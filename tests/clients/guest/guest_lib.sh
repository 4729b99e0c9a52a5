# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A Linux guest under QEMU (TCG, or KVM when the caller sets guest_accel)
# driving uvfio's virtio-net function through -device vfio-pci.  Shared by tests/clients/qemu_guest.sh and
# bench/bench_guest.sh: sourced, not run.  The caller sets `uvfio` (the CLI)
# and calls guest_setup first; guest_cleanup undoes everything by PID and by
# name, and is safe to call at any point and more than once.
#
# With the tap back end the daemon runs in a network namespace of its own,
# where its tap interface is the host's end of the guest's link:
#   host (namespace)  GUEST_TAP 10.77.0.1/24  <->  guest eth0 10.77.0.2/24
# With the loopback back end (no /dev/net/tun or no namespaces) the guest
# can only see its own frames come back.

guest_lib=$(dirname "${BASH_SOURCE[0]}")
. "$guest_lib/../lib.sh"

GUEST_BDF=0000:10:03.0
GUEST_TAP=uvfiotap0
GUEST_HOST_IP=10.77.0.1
GUEST_IP=10.77.0.2
GUEST_VFIO_NIC=(-device "vfio-pci,host=$GUEST_BDF")

guest_accel=tcg
guest_work=
guest_ns=
guest_daemon_pid=
guest_qemu_pid=
guest_log=
guest_trace=
guest_t0=

# Microseconds now.
guest_us()
{
	echo "${EPOCHREALTIME/[.,]/}"
}

# guest_time VAR [SINCE_US]: the host time in seconds since SINCE_US
# (default: guest_setup), into VAR.  No subshell: it stamps every serial line.
guest_time()
{
	local us=$((${EPOCHREALTIME/[.,]/} - ${2:-$guest_t0}))

	printf -v "$1" '%d.%03d' $((us / 1000000)) $((us / 1000 % 1000))
}

guest_say()
{
	local t

	guest_time t
	echo "[$t] $*"
}

# In the guest's namespace (or here, without one).
in_ns()
{
	if [ -n "$guest_ns" ]; then
		ip netns exec "$guest_ns" "$@"
	else
		"$@"
	fi
}

guest_cleanup()
{
	if [ -n "$guest_qemu_pid" ]; then
		kill "$guest_qemu_pid" 2>/dev/null
		wait "$guest_qemu_pid" 2>/dev/null
		guest_qemu_pid=
	fi
	if [ -n "$guest_daemon_pid" ]; then
		kill "$guest_daemon_pid" 2>/dev/null
		wait "$guest_daemon_pid" 2>/dev/null
		guest_daemon_pid=
	fi
	# The tap goes with its namespace.
	if [ -n "$guest_ns" ]; then
		ip netns del "$guest_ns" 2>/dev/null
		guest_ns=
	fi
	if [ -n "$guest_work" ]; then
		rm -rf "$guest_work"
		guest_work=
	fi
	return 0
}

# Whether this machine can give the daemon a tap in a namespace of its own;
# says why not when it cannot.  The caller has made sure of `ip`.
guest_can_tap()
{
	local probe=uvfio-probe-$$

	if [ ! -c /dev/net/tun ]; then
		echo "/dev/net/tun is missing"
		return 1
	fi
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "cannot create a network namespace (ip netns add)"
		return 1
	fi
	ip netns del "$probe"
	return 0
}

# guest_setup tap|loopback: builds the guest and starts the daemon.
guest_setup()
{
	local backend=$1 topo

	guest_t0=$(guest_us)
	need_program qemu-system-x86_64 qemu-system-x86
	guest_work=$(mktemp -d)
	guest_log=$guest_work/serial.log
	guest_trace=$guest_work/trace.log
	bash "$guest_lib/mkinitramfs.sh" "$guest_work/img" || return 1

	if [ "$backend" = tap ]; then
		guest_ns=uvfio-guest-$$
		ip netns add "$guest_ns" || { guest_ns=; return 1; }
		ip -n "$guest_ns" link set lo up
		# edu as well: the benchmark measures the trapped access path on
		# the same daemon.
		topo=$guest_work/topology.json
		cat >"$topo" <<-EOF
		{ "groups": [
		  { "id": 10, "devices": [
		    { "bdf": "0000:10:00.0", "model": "edu", "driver": "vfio-pci" } ] },
		  { "id": 13, "devices": [
		    { "bdf": "$GUEST_BDF", "model": "virtio-net", "driver": "vfio-pci",
		      "args": { "backend": "tap", "ifname": "$GUEST_TAP" } } ] } ] }
		EOF
		ip netns exec "$guest_ns" "$uvfio" daemon --dir "$guest_work/host" \
			--topology "$topo" 2>"$guest_work/daemon.err" &
	else
		"$uvfio" daemon --dir "$guest_work/host" 2>"$guest_work/daemon.err" &
	fi
	guest_daemon_pid=$!
	for _ in $(seq 100); do
		"$uvfio" ls --dir "$guest_work/host" >/dev/null 2>&1 && break
		kill -0 "$guest_daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! "$uvfio" ls --dir "$guest_work/host" 2>/dev/null |
		grep -q "^$GUEST_BDF .*1af4:1000 .*virtio-net"; then
		echo "the daemon ($backend back end) does not serve virtio-net at $GUEST_BDF:" >&2
		cat "$guest_work/daemon.err" >&2
		return 1
	fi
	[ "$backend" = tap ] || return 0

	# The daemon opened the tap; this end gets the host's address.
	for _ in $(seq 50); do
		ip -n "$guest_ns" link show "$GUEST_TAP" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$guest_ns" addr add "$GUEST_HOST_IP/24" dev "$GUEST_TAP" &&
		ip -n "$guest_ns" link set "$GUEST_TAP" up || {
		echo "no tap $GUEST_TAP in namespace $guest_ns" >&2
		return 1
	}
}

# Counters of the function, from the daemon: "irqs N faults N".
guest_dev_stats()
{
	"$uvfio" stats --dir "$guest_work/host" |
		sed -n "s/^$GUEST_BDF: .*faults \([0-9]*\), irqs \([0-9]*\).*/irqs \2 faults \1/p"
}

# guest_boot SECONDS KERNEL_ARGS [QEMU_ARGS...]: starts the guest, bounded by
# SECONDS, with the NIC(s) QEMU_ARGS give it (GUEST_VFIO_NIC: uvfio's).  QEMU
# runs in the namespace, so that a tap of its own can be the comparison.
# Each serial line is logged with the host time it arrived at.
guest_boot()
{
	local limit=$1 args=$2 ns=()

	shift 2
	: >"$guest_log"
	rm -f "$guest_trace"
	# Not through in_ns: a function in the background is a subshell, and
	# its PID would not be the one to kill.
	[ -n "$guest_ns" ] && ns=(ip netns exec "$guest_ns")
	"${ns[@]}" timeout --kill-after=5 "$limit" "$uvfio" run --connect "$guest_work/host" -- \
		qemu-system-x86_64 -accel "$guest_accel" -m 256 -nographic -no-reboot -nodefaults \
		-serial stdio -kernel "$guest_work/img/vmlinuz" \
		-initrd "$guest_work/img/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 $args" \
		-trace vfio_intx_enable -trace vfio_msix_enable -trace vfio_intx_interrupt \
		-trace vfio_msi_interrupt -trace vfio_intx_enable_kvm \
		-trace kvm_irqchip_add_msi_route -D "$guest_trace" "$@" \
		</dev/null > >(guest_stamp >"$guest_log") 2>&1 &
	guest_qemu_pid=$!
	guest_say "guest started: $args $*"
}

guest_stamp()
{
	local line t

	while IFS= read -r line; do
		guest_time t
		printf '[%s] %s\n' "$t" "${line%$'\r'}"
	done
}

# guest_wait REGEX SECONDS: waits for a serial line matching REGEX; fails
# when the guest ends or the time is up first.
guest_wait()
{
	local re=$1 i

	for ((i = 0; i < $2 * 10; i++)); do
		grep -qE "$re" "$guest_log" && return 0
		kill -0 "$guest_qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -qE "$re" "$guest_log"
}

# guest_end SECONDS: waits for QEMU to exit; its exit status.
guest_end()
{
	local i status=0

	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$guest_qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$guest_qemu_pid" 2>/dev/null && kill "$guest_qemu_pid"
	wait "$guest_qemu_pid" || status=$?
	guest_qemu_pid=
	# the stamping reader may still hold the last lines
	sleep 0.2
	return $status
}

# The guest's markers (host arrival time, guest uptime, text).
guest_markers()
{
	grep "GUEST: " "$guest_log"
}

# What a failed run shows: where the time went and how the guest ended.
guest_post_mortem()
{
	echo "--- guest markers (host time since setup, guest uptime):" >&2
	guest_markers >&2
	echo "--- last serial lines:" >&2
	tail -n 40 "$guest_log" >&2
	if [ -s "$guest_work/daemon.err" ]; then
		echo "--- daemon:" >&2
		tail -n 20 "$guest_work/daemon.err" >&2
	fi
}

# The value after "rtt min/avg/max/mdev = " (iputils) or
# "round-trip min/avg/max = " (busybox): "min/avg/max ms".
ping_rtt()
{
	sed -n 's|.*min/avg/max[/a-z]* = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\).*|\1/\2/\3 ms|p'
}
