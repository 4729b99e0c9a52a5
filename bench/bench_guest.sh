#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Guest ping round trip: a Linux guest under QEMU 7.2 (TCG; shared memfd
# guest RAM, MSI-X) drives uvfio's virtio-net function through vfio-pci, on
# the tap back end in a network namespace of its own (see
# tests/clients/guest/guest_lib.sh).  The host pings the guest from the
# namespace, after a warm-up.  Beside it, the same guest on QEMU's own
# emulated virtio-net-pci (legacy, as uvfio's) on a tap of QEMU's in the same
# namespace: the round trip with QEMU doing the device, without uvfio.
#
# Usage: bench_guest.sh UVFIO_CLI   (root: namespaces, taps; run from the
# source tree, which holds the guest builder)
set -u

here=$(dirname "$(readlink -f "$0")")
. "$here/../tests/clients/guest/guest_lib.sh"

uvfio=${1:?usage: bench_guest.sh UVFIO_CLI}
count=20
warmup=3
ref_tap=qemutap0
ref_host_ip=10.78.0.1
ref_guest_ip=10.78.0.2
memfd=(-object "memory-backend-memfd,id=m,size=256M,share=on" -machine "memory-backend=m")

trap guest_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail()
{
	echo "bench_guest: $*" >&2
	[ -n "$guest_log" ] && [ -s "$guest_log" ] && guest_post_mortem
	exit 1
}

# measure GUEST_IP KERNEL_ARGS QEMU_ARGS...: boots the guest, pings it, lets
# it go; the iputils "min/avg/max ms" in `rtt`.
measure()
{
	local ip=$1 args=$2 out

	shift 2
	guest_boot 240 "uvfio.mode=serve $args" "$@" >/dev/null
	guest_wait "GUEST: .* serving" 150 || fail "the guest never got to serve"
	if [ "$ip" = "$ref_guest_ip" ]; then
		# QEMU made its tap when it started; this end gets the address.
		ip -n "$guest_ns" addr add "$ref_host_ip/24" dev "$ref_tap" &&
			ip -n "$guest_ns" link set "$ref_tap" up || fail "no tap $ref_tap"
	fi
	in_ns ping -c "$warmup" -W 5 "$ip" >/dev/null || fail "no answer from $ip"
	out=$(in_ns ping -q -c "$count" -i 0.2 -W 5 "$ip") || fail "ping $ip: $out"
	rtt=$(echo "$out" | ping_rtt)
	echo "$out" | grep -q " 0% packet loss" || fail "ping $ip lost packets: $out"
	in_ns bash -c "echo bye >/dev/tcp/$ip/7777" || fail "no TCP connection to $ip"
	guest_wait "GUEST: .* done rc=" 60 || fail "the guest did not finish"
	guest_end 30 || fail "QEMU exited with status $?"
	grep -q "GUEST: .* done rc=0" "$guest_log" || fail "the guest's checks failed"
}

# avg MIN/AVG/MAX: the average alone.
avg()
{
	local a=${1#*/}

	echo "${a%%/*}"
}

need_program ip iproute2
need_program ping iputils-ping
why=$(guest_can_tap) || fail "$why: the guest benchmark needs a tap in a namespace"
guest_setup tap >/dev/null || fail "setup"

measure "$GUEST_IP" "" "${GUEST_VFIO_NIC[@]}" "${memfd[@]}"
uvfio_rtt=$rtt
doorbell=$(print_doorbell "$uvfio" "$guest_work/host" "$(dirname "$uvfio")/bench/bench_access")
measure "$ref_guest_ip" "uvfio.addr=$ref_guest_ip/24 uvfio.peer=$ref_host_ip" \
	-netdev "tap,id=n0,ifname=$ref_tap,script=no,downscript=no" \
	-device virtio-net-pci,netdev=n0,disable-modern=on,event_idx=off,csum=off,guest_csum=off \
	"${memfd[@]}"
ref_rtt=$rtt

echo "Guest ping: Linux $(readlink "$guest_work/img/vmlinuz" | sed 's|.*/vmlinuz-||') guest," \
	"$(qemu-system-x86_64 --version | sed -n '1s/QEMU emulator version \([^ ]*\).*/QEMU \1/p') TCG, shared memfd RAM,"
echo "MSI-X; host -> guest ping -c $count -i 0.2 from the namespace after $warmup warm-up"
printf '  %-44s rtt min/avg/max %s\n' "uvfio virtio-net (vfio-pci, tap back end)" "$uvfio_rtt"
printf '  %-44s rtt min/avg/max %s\n' "QEMU's own virtio-net-pci on a tap" "$ref_rtt"
awk -v u="$(avg "$uvfio_rtt")" -v r="$(avg "$ref_rtt")" \
	'BEGIN { printf "  ratio (avg, uvfio / QEMU) %.1fx\n", u / r }'
echo "$doorbell"
