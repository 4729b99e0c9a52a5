#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end: a Linux guest (Debian's 6.1 cloud kernel, busybox initramfs)
# under unmodified QEMU 7.2 (KVM where it boots the guest, else TCG) drives
# uvfio's virtio-net function (0000:10:03.0) through -device vfio-pci with
# its own virtio_pci (legacy) and virtio_net drivers.  The daemon runs in a
# network namespace of its own with the function on the tap back end; the
# tap is 10.77.0.1/24, the guest 10.77.0.2/24.  In every run the guest pings the host (0% loss), then the
# host pings the guest (0% loss) and says "bye" to it over TCP, and the guest
# powers off.  Runs:
#   a  MSI-X, guest RAM a shared memfd (memory-backend-memfd,share=on)
#   b  MSI-X, QEMU's default anonymous (private) guest RAM
#   c  INTx: the guest kernel boots with pci=nomsi
# Which interrupt the device used is checked three ways: the guest's
# /proc/interrupts, QEMU's vfio trace events and the daemon's counters.
#
# Without /dev/net/tun or network namespaces (or with
# UVFIO_GUEST_BACKEND=loopback) the function stays on the loopback back end:
# the guest then only checks that every frame it sent came back, and the
# test ends as skipped (77), since the host <-> guest traffic did not run.
#
# Usage: qemu_guest.sh UVFIO_CLI [RUN...]   (runs: a b c, default all)
set -u

here=$(dirname "$(readlink -f "$0")")
. "$here/guest/guest_lib.sh"

uvfio=$1
shift
runs=${*:-a b c}
run_limit=240
summary=()

trap guest_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail()
{
	echo "FAIL: $*" >&2
	[ -s "$guest_log" ] && guest_post_mortem
	exit 1
}

backend=${UVFIO_GUEST_BACKEND:-tap}
why="UVFIO_GUEST_BACKEND=$backend"
need_program ip iproute2
if [ "$backend" = tap ] && ! why=$(guest_can_tap); then
	echo "##########################################################################"
	echo "## $why: no tap back end here. Falling back to the loopback"
	echo "## back end: host <-> guest traffic will NOT be tested."
	echo "##########################################################################"
	backend=loopback
fi
[ "$backend" = tap ] && need_program ping iputils-ping
guest_setup "$backend" || fail "setup (back end $backend)"
qemu-system-x86_64 --version | head -n1
guest_say "set up: back end $backend"

# count_trace EVENT: how many times QEMU traced it in this run.
count_trace()
{
	grep -cE "(^|:)$1 " "$guest_trace" 2>/dev/null || true
}

# guest_irq_count NAME: the guest's interrupt count for the virtio IRQ whose
# /proc/interrupts line ends in NAME (summed over CPUs).
guest_irq_count()
{
	guest_markers | grep " irq .* $1\$" | head -n1 |
		awk '{ n = 0; for (i = 6; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }'
}

# run_guest NAME msix|intx KERNEL_ARGS [QEMU_ARGS...]
run_guest()
{
	local name=$1 irq=$2 args=$3 t_start t_all t_link line before after
	local gping hping hrtt='' grtt='' msi intx_n msi_n n

	shift 3
	echo
	echo "=== run $name: $irq${args:+, $args}${*:+, $*}"
	before=$(guest_dev_stats)
	[ -n "$before" ] || fail "the daemon has no counters for $GUEST_BDF"
	t_start=$(guest_us)
	if [ "$backend" = tap ]; then
		guest_boot "$run_limit" "uvfio.mode=ping,serve $args" "${GUEST_VFIO_NIC[@]}" "$@"
		guest_wait "GUEST: .* serving" 150 || fail "run $name: the guest never got to serve"
		grep -q "GUEST: .* ping rc=0" "$guest_log" || fail "run $name: the guest's ping failed"
		gping=$(grep -E "packets transmitted" "$guest_log" | tail -n1)
		grtt=$(grep -E "min/avg/max" "$guest_log" | tail -n1 | ping_rtt)
		echo "guest -> host: ${gping#*] }, rtt $grtt"
		echo "$gping" | grep -q "5 packets received, 0% packet loss" ||
			fail "run $name: guest -> host ping lost packets"

		hping=$(in_ns ping -c 3 -W 5 "$GUEST_IP" 2>&1)
		hrtt=$(echo "$hping" | ping_rtt)
		echo "host -> guest: $(echo "$hping" | grep "packets transmitted"), rtt $hrtt"
		echo "$hping" | grep -qE "3 (packets )?received, 0% packet loss" ||
			fail "run $name: host -> guest ping lost packets: $hping"
		in_ns bash -c "echo bye >/dev/tcp/$GUEST_IP/7777" ||
			fail "run $name: no TCP connection to the guest"
		guest_wait "GUEST: .* got \"bye\"" 30 || fail "run $name: the guest did not get bye"
	else
		guest_boot "$run_limit" "uvfio.mode=loop $args" "${GUEST_VFIO_NIC[@]}" "$@"
		guest_wait "GUEST: .* loop tx_packets" 150 ||
			fail "run $name: the guest never finished its loop check"
		line=$(grep "GUEST: .* loop tx_packets" "$guest_log")
		echo "guest: ${line#*GUEST: }"
	fi
	guest_wait "GUEST: .* done rc=" 60 || fail "run $name: the guest did not finish"
	guest_end 30 || fail "run $name: QEMU exited with status $?"
	guest_time t_all "$t_start"
	grep -q "GUEST: .* done rc=0" "$guest_log" || fail "run $name: the guest's checks failed"
	grep -qE "GUEST: .* nic [a-z0-9]+ pci .* vendor 0x1af4 device 0x1000" "$guest_log" ||
		fail "run $name: the guest's virtio_net did not claim the 1af4:1000 function"
	if grep -E "WARNING:|BUG:|Call Trace|virtio_net .*(error|failed)" "$guest_log"; then
		fail "run $name: the guest kernel complained"
	fi
	if grep -E "KVM VFIO device|vfio.*KVM.*(fail|error)" "$guest_log"; then
		fail "run $name: QEMU complained about KVM and VFIO"
	fi

	# Which interrupt mechanism carried the device's interrupts.
	msi=$(sed -n 's/.*GUEST: .* msi_irqs //p' "$guest_log")
	intx_n=$(count_trace vfio_intx_interrupt)
	msi_n=$(count_trace vfio_msi_interrupt)
	echo "QEMU: msix_enable $(count_trace vfio_msix_enable), INTx interrupts $intx_n," \
		"MSI interrupts $msi_n; guest msi_irqs: $msi"
	guest_markers | grep " irq " | sed 's/.*GUEST: \[[0-9.]*\] /guest: /'
	if [ "$irq" = msix ]; then
		[ "$msi" != none ] || fail "run $name: the guest has no MSI-X vectors"
		n=$(guest_irq_count virtio0-input.0)
		[ "${n:-0}" -gt 0 ] || fail "run $name: no PCI-MSI interrupts on virtio0-input.0"
		guest_markers | grep -q " irq .*PCI-MSI.*virtio0-input.0" ||
			fail "run $name: virtio0-input.0 is not a PCI-MSI interrupt"
		[ "$(count_trace vfio_msix_enable)" -gt 0 ] || fail "run $name: QEMU never enabled MSI-X"
		if [ "$guest_accel" = kvm ]; then
			[ "$(count_trace kvm_irqchip_add_msi_route)" -gt 0 ] ||
				fail "run $name: no MSI-X vector routed through KVM"
		else
			[ "$msi_n" -gt 0 ] || fail "run $name: QEMU saw no MSI-X interrupt"
		fi
	else
		[ "$msi" = none ] || fail "run $name: the guest uses MSI vectors $msi"
		n=$(guest_irq_count virtio0)
		[ "${n:-0}" -gt 0 ] || fail "run $name: no interrupts on the guest's virtio0 line"
		guest_markers | grep -q " irq .*IO-APIC.*virtio0\$" ||
			fail "run $name: virtio0 is not an IO-APIC (INTx) interrupt"
		[ "$(count_trace vfio_msix_enable)" -eq 0 ] || fail "run $name: QEMU enabled MSI-X"
		[ "$msi_n" -eq 0 ] || fail "run $name: QEMU saw $msi_n MSI interrupts"
		if [ "$guest_accel" = kvm ]; then
			[ "$(count_trace vfio_intx_enable_kvm)" -gt 0 ] ||
				fail "run $name: INTx not routed through a KVM irqfd"
		else
			[ "$intx_n" -gt 0 ] || fail "run $name: QEMU saw no INTx interrupt"
		fi
	fi

	after=$(guest_dev_stats)
	echo "daemon, $GUEST_BDF: before $before; after $after"
	[ "${after#irqs }" != "${before#irqs }" ] || fail "run $name: the daemon signalled no interrupt"
	echo "$after" | grep -q "faults 0$" || fail "run $name: the device had DMA faults"

	t_link=$(sed -n 's/.*GUEST: \[\([0-9.]*\)\] link up.*/\1/p' "$guest_log")
	line="run $name ($guest_accel, $irq${args:+, $args}${*:+, $*}): $t_all s in all,"
	line+=" guest link up at $t_link s guest time"
	line+="${grtt:+; guest->host rtt $grtt}${hrtt:+; host->guest rtt $hrtt}"
	summary+=("$line")
	guest_say "run $name passed"
}

# KVM where it boots this guest: then the runs use it, and the device's
# interrupts go through KVM irqfds (MSI-X routes, INTx with a resample
# eventfd as the unmask eventfd) instead of through QEMU.  Where it does not,
# the runs use TCG and say so.
if kvm_boots_linux "$guest_work/img/vmlinuz" "$guest_work/img/initramfs.cpio"; then
	guest_accel=kvm
	echo "KVM boots this guest: the runs use -accel kvm"
else
	echo "##########################################################################"
	echo "## KVM cannot boot a Linux guest here (no writable /dev/kvm, or one that"
	echo "## does not run a standard kernel, such as PVM's): these runs use TCG;"
	echo "## the guest under KVM is NOT tested (QEMU under KVM is:"
	echo "## tests/clients/qemu_kvm.sh)."
	echo "##########################################################################"
fi

for r in $runs; do
	case $r in
	a)	run_guest a msix "" -object memory-backend-memfd,id=m,size=256M,share=on \
			-machine memory-backend=m ;;
	b)	run_guest b msix "" ;;
	c)	run_guest c intx "pci=nomsi" ;;
	*)	fail "unknown run $r (want a, b or c)" ;;
	esac
done

echo
printf '%s\n' "${summary[@]}"
if [ "$backend" != tap ]; then
	echo "SKIP: only the loopback checks ran; host <-> guest traffic was not tested ($why)"
	exit 77
fi
echo "PASS"
