#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds, at test time, a tiny Linux guest for the end-to-end tests: Debian's
# 6.1 cloud kernel and an initramfs of busybox-static plus the modules that
# drive a virtio-net PCI function (virtio_pci, virtio_net and what
# modules.dep says they need).  The generated /init brings the NIC up and
# runs the test action named on the kernel command line:
#
#   uvfio.mode=ping      ping uvfio.peer 5 times (0% loss wanted)
#   uvfio.mode=serve     answer pings until a TCP client on port 7777 says "bye"
#   uvfio.mode=ping,serve  both, in that order
#   uvfio.mode=edu       set edu's (1234:11e8) liveness and factorial
#                        registers, then read them back every 0.2 s while
#                        the next actions run ("GUEST: .. edu liveness X
#                        fact Y"): a migration must carry them
#   uvfio.mode=loop      loopback back end: arping (nobody answers) and check
#                        that every transmitted frame came back as received
#   uvfio.addr=A/N (default 10.77.0.2/24)  uvfio.peer=A (default 10.77.0.1)
#   uvfio.wait=SECONDS   how long serve waits for "bye" (default 300)
#
# Every line the host checks starts with "GUEST: [uptime] ", and the guest
# always ends with "GUEST: [..] done rc=N" and powers off.
#
# Usage: mkinitramfs.sh OUTDIR
#   writes OUTDIR/initramfs.cpio and OUTDIR/vmlinuz (a link to the kernel)
set -eu

out=${1:?usage: mkinitramfs.sh OUTDIR}
. "$(dirname "$(readlink -f "$0")")/../lib.sh"

need_package busybox-static
need_package linux-image-cloud-amd64
busybox=$(dpkg -L busybox-static | grep -m1 '/busybox$')

kver=
for dir in /lib/modules/*-cloud-amd64; do
	v=${dir##*/}
	[ -e "/boot/vmlinuz-$v" ] && [ -e "$dir/modules.dep" ] || continue
	if [ -z "$kver" ] || dpkg --compare-versions "$v" gt "$kver"; then
		kver=$v
	fi
done
[ -n "$kver" ] || { echo "FAIL: no cloud kernel with modules under /lib/modules" >&2; exit 1; }
moddir=/lib/modules/$kver

# deps_of MODULE_PATH: its direct dependencies, as modules.dep names them.
deps_of()
{
	sed -n "s|^$1: *||p" "$moddir/modules.dep"
}

# Load order: every module after all it depends on.
order=()
add_module()
{
	local m=$1 d

	for d in "${order[@]}"; do
		[ "$d" = "$m" ] && return 0
	done
	for d in $(deps_of "$m"); do
		add_module "$d"
	done
	order+=("$m")
}
for name in virtio_pci virtio_net; do
	path=$(sed -n "s|^\(.*/$name\.ko[.a-z]*\):.*|\1|p" "$moddir/modules.dep")
	[ -n "$path" ] || { echo "FAIL: $name is not in $moddir/modules.dep" >&2; exit 1; }
	add_module "$path"
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
cp "$busybox" "$root/bin/busybox"
: >"$root/modules.list"
for m in "${order[@]}"; do
	base=${m##*/}
	base=${base%.ko*}.ko
	# Compressed modules are unpacked here so that the guest's insmod
	# needs no decompressor.
	case $m in
	*.ko)		cp "$moddir/$m" "$root/lib/modules/$base" ;;
	*.ko.xz)	xz -dc "$moddir/$m" >"$root/lib/modules/$base" ;;
	*.ko.gz)	gzip -dc "$moddir/$m" >"$root/lib/modules/$base" ;;
	*.ko.zst)	zstd -qdc "$moddir/$m" >"$root/lib/modules/$base" ;;
	*)		echo "FAIL: unknown module file $m" >&2; exit 1 ;;
	esac
	echo "$base" >>"$root/modules.list"
done

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# The uvfio test guest's /init (written by tests/clients/guest/mkinitramfs.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

mark()
{
	local up rest

	read -r up rest </proc/uptime
	echo "GUEST: [$up] $*"
}

finish()
{
	mark "done rc=$1"
	sync
	poweroff -f
}

# param NAME DEFAULT: the value of uvfio.NAME= on the kernel command line.
param()
{
	local w

	for w in $(cat /proc/cmdline); do
		case $w in
		uvfio.$1=*)	echo "${w#*=}"; return ;;
		esac
	done
	echo "$2"
}

stat_of()
{
	cat "/sys/class/net/$ifc/statistics/$1"
}

mode=$(param mode ping)
addr=$(param addr 10.77.0.2/24)
peer=$(param peer 10.77.0.1)
wait_s=$(param wait 300)
mark "init started, mode $mode"

for m in $(cat /modules.list); do
	insmod "/lib/modules/$m" || { mark "insmod $m failed"; finish 1; }
done
mark "modules loaded: $(cat /modules.list | tr '\n' ' ')"

ifc=
for _ in $(seq 100); do
	for n in /sys/class/net/*; do
		drv=$(readlink "$n/device/driver") || continue
		[ "${drv##*/}" = virtio_net ] && ifc=${n##*/}
	done
	[ -n "$ifc" ] && break
	sleep 0.1
done
[ -n "$ifc" ] || { mark "no virtio_net interface"; ls /sys/class/net; finish 1; }

pcidev=$(readlink -f "/sys/class/net/$ifc/device/..")
mark "nic $ifc pci ${pcidev##*/} mac $(cat /sys/class/net/$ifc/address)" \
	"vendor $(cat $pcidev/vendor) device $(cat $pcidev/device)"
ip link set lo up
ip addr add "$addr" dev "$ifc"
ip link set "$ifc" up || { mark "cannot bring $ifc up"; finish 1; }
for _ in $(seq 50); do
	[ "$(cat /sys/class/net/$ifc/operstate)" = up ] && break
	sleep 0.1
done
mark "link up $ifc operstate $(cat /sys/class/net/$ifc/operstate)" \
	"carrier $(cat /sys/class/net/$ifc/carrier)"
# Without MSI the directory is absent or empty.
msi=$(ls "$pcidev/msi_irqs" 2>/dev/null | tr '\n' ' ')
mark "msi_irqs ${msi:-none}"

rc=0
for action in $(echo "$mode" | tr ',' ' '); do
	case $action in
	ping)
		mark "ping $peer"
		ping -c 5 "$peer"
		r=$?
		mark "ping rc=$r"
		[ $r -eq 0 ] || rc=1
		;;
	serve)
		mark "serving on $addr (port 7777 for bye)"
		msg=$(timeout "$wait_s" nc -l -p 7777)
		mark "got \"$msg\""
		[ "$msg" = bye ] || rc=1
		;;
	edu)
		edu=
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
				edu=$d
		done
		[ -n "$edu" ] || { mark "no edu device"; rc=1; continue; }
		echo 1 >"$edu/enable"
		bar=$(head -n 1 "$edu/resource" | cut -d' ' -f1)
		devmem $((bar + 4)) 32 0x12345678
		devmem $((bar + 8)) 32 7
		mark "edu ${edu##*/} at $bar set"
		while :; do
			mark "edu liveness $(devmem $((bar + 4)) 32) fact $(devmem $((bar + 8)) 32)"
			sleep 0.2
		done &
		;;
	loop)
		# Nobody answers: the loopback back end returns each frame
		# as received, so what this interface sent is what it gets.
		arping -c 5 -I "$ifc" "$peer"
		sleep 1
		tx=$(stat_of tx_packets)
		rx=$(stat_of rx_packets)
		mark "loop tx_packets $tx rx_packets $rx"
		[ "$tx" -ge 5 ] && [ "$rx" -eq "$tx" ] || rc=1
		;;
	*)
		mark "unknown mode $action"
		rc=1
		;;
	esac
done

mark "counters tx_packets $(stat_of tx_packets) rx_packets $(stat_of rx_packets)" \
	"rx_errors $(stat_of rx_errors) tx_errors $(stat_of tx_errors)"
grep virtio /proc/interrupts | while read -r line; do
	mark "irq $line"
done
finish $rc
EOF
chmod +x "$root/init"

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) \
	>"$out/initramfs.cpio"
ln -sf "/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "guest: kernel $kver, modules ${order[*]##*/}"
