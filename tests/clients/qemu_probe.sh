#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unmodified QEMU (Debian 12's qemu-system-x86_64) realises a vfio-pci device
# backed by uvfio's edu model at 0000:10:00.0, its firmware sizes and assigns
# BAR0, and a guest read of the BAR reaches the model.
#
# Usage: qemu_probe.sh UVFIO_CLI host|sysfsdev
set -eu

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

uvfio=$1
form=$2
bdf=0000:10:00.0

case $form in
host)		dev="vfio-pci,host=$bdf" ;;
sysfsdev)	dev="vfio-pci,sysfsdev=/sys/bus/pci/devices/$bdf" ;;
*)		echo "usage: $0 UVFIO_CLI host|sysfsdev" >&2; exit 2 ;;
esac

need_program qemu-system-x86_64 qemu-system-x86
need_program python3 python3
qemu-system-x86_64 --version | head -n1

# The edu model: 1234:11e8, BAR0 = 1 MiB of registers, ID register 0x010000ed.
exec python3 "$here/qmp_probe.py" --vendor 0x1234 --device 0x11e8 \
	--bar0-size 1048576 --id0 0x010000ed -- \
	timeout --kill-after=5 60 "$uvfio" run -- \
	qemu-system-x86_64 -accel tcg -M q35 -m 128 -nodefaults -display none \
	-S -qmp stdio -device "$dev"
