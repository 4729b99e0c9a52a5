#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# QEMU 10 migrates a VM with uvfio devices through VFIO migration v2.
#
# Debian 12 has no QEMU with migration v2, so the test builds a Debian 13
# root with debootstrap (its QEMU 10; about a minute the first time, then
# kept in the build directory as debian13-root) and runs that QEMU in it
# under the shim, the daemon outside.  The VMs run under KVM where it boots
# a Linux guest here, else under TCG (said loudly).  Each run boots a VM (no
# guest OS: the firmware), migrates it to a file, then starts a second QEMU
# that takes it in and runs on:
#   group    edu by host=, device DMA logging for dirty tracking;
#   iommufd  ramdev on an iommufd, device logging off: IOMMU dirty tracking
#            (the HWPT's) instead.
# Checked: the migration completes with the device's state in the stream;
# QEMU's trace shows the arcs it took and the dirty tracking it used; the
# destination device ends RUNNING.
#   live     a Linux guest answering pings (20 a second) through uvfio's
#            virtio-net moves from a QEMU with one function to a QEMU with
#            another function of the daemon, their taps on one bridge: at
#            most 10 pings lost, no complaint from the guest's kernel, and
#            it answers after the move; an edu function moves with it,
#            mid-work: the guest set its registers on the source and reads
#            them back on the destination; again with the NICs on iommufds
#            (IOMMU dirty tracking); then, as the reference, the same
#            guest with QEMU's own virtio-net-pci on taps.  Downtime, total
#            time and pings lost are printed for both.
# Without root, or without a Debian mirror to build the root from, the test
# says so and ends skipped (77).
#
# Usage: qemu10_migration.sh UVFIO_CLI
set -u

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

uvfio=$(readlink -f "$1")
build=$(dirname "$uvfio")
root=$build/debian13-root

skip()
{
	echo "##########################################################################"
	echo "## SKIPPED: $*"
	echo "## QEMU 10's migration of uvfio devices was NOT tested."
	echo "##########################################################################"
	exit 77
}

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

if [ "${1:-}" != --inside ] && [ "${2:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || skip "needs root (a mount namespace and chroot)"
	need_program debootstrap debootstrap
	need_program unshare util-linux
	if [ ! -x "$root/usr/bin/qemu-system-x86_64" ]; then
		rm -rf "$root.new"
		t0=$(date +%s)
		debootstrap --variant=minbase --include=qemu-system-x86 trixie "$root.new" \
			http://deb.debian.org/debian >"$build/debian13-root.log" 2>&1 ||
			skip "debootstrap of Debian 13 failed (see $build/debian13-root.log)"
		mv "$root.new" "$root"
		echo "built the Debian 13 root in $(($(date +%s) - t0)) s"
	fi
	# the binds below go with the namespace
	exec unshare -m --propagation private bash "$0" "$1" --inside
fi

work=$(mktemp -d)
daemon_pid=
net_pid=
ns=
cleanup()
{
	pkill -f "qemu-system-x86_64 .*$work/" 2>/dev/null
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	# the live part's daemon and namespace, when a failure cut it short
	[ -n "$net_pid" ] && kill "$net_pid" 2>/dev/null && wait "$net_pid"
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The build tree, the daemon's directory and the shim's libZydis (Debian
# 12's), where the same paths name them inside the root.
mkdir -p "$root$build" "$root$work" "$root/opt/uvfio-lib"
mount --bind "$build" "$root$build" || fail "bind the build tree"
mount --bind "$work" "$root$work" || fail "bind the work directory"
cp /usr/lib/x86_64-linux-gnu/libZydis.so.4.0 "$root/opt/uvfio-lib/" || fail "libZydis"
mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
	mount --bind /sys "$root/sys" || fail "mount proc, dev, sys"

"$uvfio" daemon --dir "$work/host" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do [ -S "$work/host/uvfiod.sock" ] && break; sleep 0.1; done
[ -S "$work/host/uvfiod.sock" ] || fail "the daemon did not start"
echo "$(chroot "$root" qemu-system-x86_64 --version | head -n1), Debian 13 root"

bash "$here/guest/mkinitramfs.sh" "$work/img" >/dev/null || fail "no guest image"
# the kernel is a link to the host's /boot, which the root has not
cp --remove-destination "$(readlink -f "$work/img/vmlinuz")" "$work/img/vmlinuz" ||
	fail "no kernel"
accel=tcg
if kvm_boots_linux "$work/img/vmlinuz" "$work/img/initramfs.cpio"; then
	accel=kvm
	echo "KVM boots a Linux guest here: the VMs use -accel kvm"
else
	echo "##########################################################################"
	echo "## KVM cannot boot a Linux guest here (no writable /dev/kvm, or one that"
	echo "## does not run a standard kernel, such as PVM's): the VMs use TCG;"
	echo "## migration under KVM is NOT tested."
	echo "##########################################################################"
fi

# qmp SOCKET COMMAND...: runs QMP commands (JSON); prints the last reply.
qmp()
{
	python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
last = None
for cmd in [{"execute": "qmp_capabilities"}] + [json.loads(a) for a in sys.argv[2:]]:
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            break
    if "error" in r:
        sys.exit("QMP %s: %s" % (cmd["execute"], r["error"]))
    last = r
print(json.dumps(last["return"]))
PY
}

# start NAME QEMU_ARGS...: a QEMU in the root, its QMP socket $work/NAME.qmp,
# served by the daemon at $daemon_dir, in network namespace $qemu_ns if set.
daemon_dir=$work/host
qemu_ns=
start()
{
	local name=$1

	shift
	${qemu_ns:+ip netns exec "$qemu_ns"} chroot "$root" env LD_LIBRARY_PATH=/opt/uvfio-lib \
		"$uvfio" run --connect "$daemon_dir" -- qemu-system-x86_64 -accel "$accel" -M q35 \
		-m 128 -nodefaults -display none \
		-qmp "unix:$work/$name.qmp,server=on,wait=off" -D "$work/$name.trace" \
		-trace vfio_migration_set_device_state -trace vfio_device_dirty_tracking_start \
		-trace iommufd_backend_set_dirty -trace iommufd_backend_get_dirty_bitmap \
		"$@" >"$work/$name.log" 2>&1 &
	for _ in $(seq 100); do [ -S "$work/$name.qmp" ] && return 0; sleep 0.1; done
	cat "$work/$name.log" >&2
	fail "$name: QEMU did not start"
}

# wait_migration SOCKET: the status of the migration once it ended.
wait_migration()
{
	local out

	for _ in $(seq 100); do
		out=$(qmp "$1" '{"execute":"query-migrate"}') || return 1
		case $out in
		*'"status": "completed"'* | *'"status": "failed"'*) echo "$out"; return 0 ;;
		esac
		sleep 0.1
	done
	echo "$out"
}

# run NAME BDF DIRTY DEVICE_ARGS...: migrates a VM with BDF to a file and
# back; DIRTY is the trace event that says which dirty tracking ran.
run()
{
	local name=$1 bdf=$2 dirty=$3 out line

	shift 3
	echo
	echo "=== $name: $*"
	start "$name-src" "$@"
	qmp "$work/$name-src.qmp" '{"execute":"cont"}' >/dev/null || fail "$name: cont"
	qmp "$work/$name-src.qmp" \
		"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > $work/$name.state\"}}" \
		>/dev/null || fail "$name: migrate"
	out=$(wait_migration "$work/$name-src.qmp")
	echo "$out" | grep -q '"status": "completed"' || {
		cat "$work/$name-src.log" >&2
		fail "$name: the migration did not complete: $out"
	}
	echo "source: $(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("device state %d bytes, downtime %s ms, total %s ms" % (r["vfio"]["transferred"], r["downtime"], r["total-time"]))')"
	[ "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vfio"]["transferred"])')" -gt 0 ] ||
		fail "$name: no device state in the stream"
	grep -q "^$dirty" "$work/$name-src.trace" ||
		fail "$name: QEMU did not use $dirty for dirty tracking"
	echo "source arcs: $(sed -n 's/.*vfio_migration_set_device_state .* state //p' "$work/$name-src.trace" | tr '\n' ' ')"
	echo "dirty tracking: $(grep -m1 "^$dirty" "$work/$name-src.trace" | cut -c1-100)"
	qmp "$work/$name-src.qmp" '{"execute":"quit"}' >/dev/null 2>&1
	sleep 0.5

	start "$name-dst" -incoming "exec:cat $work/$name.state" "$@"
	out=$(wait_migration "$work/$name-dst.qmp")
	echo "$out" | grep -q '"status": "completed"' || {
		cat "$work/$name-dst.log" >&2
		fail "$name: the destination did not take the state in: $out"
	}
	qmp "$work/$name-dst.qmp" '{"execute":"cont"}' >/dev/null || fail "$name: cont"
	out=$(qmp "$work/$name-dst.qmp" '{"execute":"query-status"}')
	echo "$out" | grep -q '"status": "running"' || fail "$name: destination not running: $out"
	grep -q "state RESUMING" "$work/$name-dst.trace" || fail "$name: the device never resumed"
	line=$("$uvfio" stats --dir "$work/host" | grep "^$bdf: migration") ||
		fail "$name: no migration state in uvfio stats"
	echo "destination: ${line#"$bdf: "}"
	echo "$line" | grep -q "migration RUNNING" || fail "$name: destination device not RUNNING"
	if grep -iE "error|fail" "$work/$name-src.log" "$work/$name-dst.log" |
		grep -v "PCI BAR\|vfio_container_dma_map\|peer-to-peer"; then
		fail "$name: QEMU complained"
	fi
	qmp "$work/$name-dst.qmp" '{"execute":"quit"}' >/dev/null 2>&1
	sleep 0.5
	echo "$name: PASS"
}

# A Linux guest answering pings moves, while pinged, from one QEMU to
# another: with uvfio's virtio-net, from one function to another of one
# daemon; for reference, the same with QEMU's own virtio-net-pci.  The taps
# of both ends are on one bridge with the host's address.
ns=uvfio-mig-$$
live_setup()
{
	local topo=$work/net.json

	ip netns add "$ns" || fail "live: no network namespace"
	cat >"$topo" <<-EOF
	{ "groups": [
	  { "id": 13, "devices": [ { "bdf": "0000:10:03.0", "model": "virtio-net",
	    "driver": "vfio-pci", "args": { "backend": "tap", "ifname": "uvfiomig0",
	    "mac": "52:54:00:12:34:56" } } ] },
	  { "id": 15, "devices": [ { "bdf": "0000:10:05.0", "model": "virtio-net",
	    "driver": "vfio-pci", "args": { "backend": "tap", "ifname": "uvfiomig1",
	    "mac": "52:54:00:12:34:56" } } ] },
	  { "id": 10, "devices": [ { "bdf": "0000:10:00.0", "model": "edu",
	    "driver": "vfio-pci" } ] },
	  { "id": 16, "devices": [ { "bdf": "0000:10:06.0", "model": "edu",
	    "driver": "vfio-pci" } ] } ] }
	EOF
	ip netns exec "$ns" "$uvfio" daemon --dir "$work/net" --topology "$topo" \
		>"$work/net-daemon.log" 2>&1 &
	net_pid=$!
	for _ in $(seq 50); do
		ip -n "$ns" link show uvfiomig1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	# ageing 0: a hub, so frames find the guest on whichever tap it is
	# now (it does not announce itself after a move, and the taps serve
	# one run after another)
	ip -n "$ns" link add br0 type bridge ageing_time 0 &&
		ip -n "$ns" addr add 10.77.0.1/24 dev br0 &&
		ip -n "$ns" link set br0 up && ip -n "$ns" link set lo up || fail "live: bridge"
	bridge uvfiomig0
	bridge uvfiomig1
}

bridge()
{
	for _ in $(seq 50); do
		ip -n "$ns" link show "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$ns" link set "$1" master br0 && ip -n "$ns" link set "$1" up ||
		fail "live: tap $1"
}

# live_move NAME MODE SRC_DEVICES DST_DEVICES [TAPS...]: sets $lost, prints
# the figures (MODE: the guest's uvfio.mode).
live_move()
{
	local name=$1 mode=$2 src_nic=$3 dst_nic=$4 out sent got guest

	shift 4
	guest=(-m 256 -kernel "$work/img/vmlinuz" -initrd "$work/img/initramfs.cpio"
	       -append "console=ttyS0 panic=-1 uvfio.mode=$mode uvfio.wait=120")
	daemon_dir=$work/net
	qemu_ns=$ns
	# shellcheck disable=SC2086
	start "$name-src" "${guest[@]}" -serial "file:$work/$name-src.serial" $src_nic
	[ $# -gt 0 ] && bridge "$1"
	for _ in $(seq 600); do
		grep -q "GUEST: .* serving" "$work/$name-src.serial" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "GUEST: .* serving" "$work/$name-src.serial" || {
		tail -n 20 "$work/$name-src.serial" "$work/$name-src.log" >&2
		fail "$name: the guest did not come up"
	}
	# shellcheck disable=SC2086
	start "$name-dst" "${guest[@]}" -serial "file:$work/$name-dst.serial" $dst_nic \
		-incoming "unix:$work/$name.mig"
	[ $# -gt 1 ] && bridge "$2"
	ip netns exec "$ns" ping -i 0.05 -c 200 -W 1 10.77.0.2 >"$work/$name.ping" 2>&1 &
	ping_pid=$!
	sleep 2
	qmp "$work/$name-src.qmp" \
		"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$work/$name.mig\"}}" \
		>/dev/null || fail "$name: migrate"
	out=$(wait_migration "$work/$name-src.qmp")
	echo "$out" | grep -q '"status": "completed"' ||
		fail "$name: the migration did not complete: $out"
	wait "$ping_pid"
	# the source, paused after the move, lets its devices go
	qmp "$work/$name-src.qmp" '{"execute":"quit"}' >/dev/null 2>&1
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$work/$name.ping")
	got=$(sed -n 's/.* \([0-9]*\) \(packets \)\{0,1\}received.*/\1/p' "$work/$name.ping")
	lost=$((sent - got))
	echo "$name: $(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); v=r.get("vfio",{}).get("transferred"); print("downtime %s ms, total %s ms%s" % (r["downtime"], r["total-time"], ", device state %d bytes" % v if v else ""))'); pings during the move: $sent sent, $lost lost"
	out=$(qmp "$work/$name-dst.qmp" '{"execute":"query-status"}')
	echo "$out" | grep -q '"status": "running"' || fail "$name: destination not running: $out"
	ip netns exec "$ns" ping -c 3 -W 2 10.77.0.2 >/dev/null || fail "$name: no answer after the move"
	if grep -E "WARNING:|BUG:|Call Trace|virtio_net .*(error|failed|reset)|NETDEV WATCHDOG" \
		"$work/$name-src.serial" "$work/$name-dst.serial"; then
		fail "$name: the guest kernel complained"
	fi
	qmp "$work/$name-dst.qmp" '{"execute":"quit"}' >/dev/null 2>&1
	sleep 0.5
	qemu_ns=
}

live()
{
	echo
	echo "=== live: a pinged Linux guest moves between two QEMUs"
	live_setup
	live_move live-uvfio edu,serve \
		"-device vfio-pci,host=0000:10:03.0,id=nic -device vfio-pci,host=0000:10:00.0,id=edu" \
		"-device vfio-pci,host=0000:10:05.0,id=nic -device vfio-pci,host=0000:10:06.0,id=edu"
	[ "$lost" -le 10 ] || fail "live: $lost pings lost with uvfio's virtio-net"
	# edu moved too, mid-work: the destination's function reads back
	# what the guest wrote to the source's
	grep -q "GUEST: .* edu liveness 0xEDCBA987 fact 0x000013B0" "$work/live-uvfio-dst.serial" || {
		grep "edu" "$work/live-uvfio-src.serial" "$work/live-uvfio-dst.serial" | tail -n 5 >&2
		fail "live: edu's registers did not move with the guest"
	}
	echo "edu on the destination: $(grep -m1 "edu liveness" "$work/live-uvfio-dst.serial" |
		sed 's/.*GUEST: \[[0-9.]*\] //')"
	# again on iommufds, the IOMMU tracking dirty pages
	live_move live-iommufd serve \
		"-object iommufd,id=i -device vfio-pci,host=0000:10:03.0,id=nic,iommufd=i,x-device-dirty-page-tracking=off" \
		"-object iommufd,id=i -device vfio-pci,host=0000:10:05.0,id=nic,iommufd=i,x-device-dirty-page-tracking=off"
	[ "$lost" -le 10 ] || fail "live: $lost pings lost with uvfio's virtio-net on an iommufd"
	grep -q "^iommufd_backend_set_dirty .*enable=1" "$work/live-iommufd-src.trace" ||
		fail "live: no IOMMU dirty tracking on the iommufd"
	live_move live-qemu serve \
		"-netdev tap,id=n0,ifname=qtap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,disable-modern=on,mac=52:54:00:12:34:56,id=nic" \
		"-netdev tap,id=n0,ifname=qtap1,script=no,downscript=no -device virtio-net-pci,netdev=n0,disable-modern=on,mac=52:54:00:12:34:56,id=nic" \
		qtap0 qtap1
	kill "$net_pid" 2>/dev/null
	wait "$net_pid" 2>/dev/null
	net_pid=
	ip netns del "$ns"
	ns=
	echo "live: PASS"
}

run group 0000:10:00.0 vfio_device_dirty_tracking_start \
	-device vfio-pci,host=0000:10:00.0
run iommufd 0000:10:01.0 iommufd_backend_set_dirty \
	-object iommufd,id=i -device vfio-pci,host=0000:10:01.0,iommufd=i,x-device-dirty-page-tracking=off
live
echo
echo "PASS"
