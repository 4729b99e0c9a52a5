#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# QEMU 7.2 under KVM with uvfio devices: it creates its KVM VFIO device and
# adds the group of each vfio-pci device to it; that must succeed (QEMU
# warns "Failed to add group N to KVM VFIO device" when it does not).  The
# VM starts, lists the devices, and quits cleanly.
#
# Without a usable /dev/kvm the test says so and ends skipped (77).  (A
# Linux guest under KVM cannot be booted on the machines this suite was
# written on: their KVM is PVM's, which runs the firmware but stops a
# standard kernel; see qemu_guest.sh.)
#
# Usage: qemu_kvm.sh UVFIO_CLI
set -u

here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

uvfio=$1
need_program qemu-system-x86_64 qemu-system-x86
need_program python3 python3

if ! python3 -c 'import fcntl, os; fd = os.open("/dev/kvm", os.O_RDWR); fcntl.ioctl(fd, 0xae01, 0)' \
	2>/dev/null; then
	echo "##########################################################################"
	echo "## SKIPPED: /dev/kvm is missing or cannot create a VM here."
	echo "## QEMU under KVM with uvfio devices was NOT tested."
	echo "##########################################################################"
	exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Two groups (edu, ramdev), so that two files go to the KVM VFIO device.
out=$(python3 - "$uvfio" "$work" <<'PY'
import json, subprocess, sys
uvfio, work = sys.argv[1], sys.argv[2]
argv = ["timeout", "--kill-after=5", "60", uvfio, "run", "--", "qemu-system-x86_64",
        "-accel", "kvm", "-M", "q35", "-m", "128", "-nodefaults", "-display", "none",
        "-S", "-qmp", "stdio",
        "-device", "vfio-pci,host=0000:10:00.0", "-device", "vfio-pci,host=0000:10:01.0"]
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
def call(cmd):
    p.stdin.write(json.dumps({"execute": cmd}) + "\n")
    p.stdin.flush()
    while True:
        r = json.loads(p.stdout.readline())
        if "event" not in r:
            return r
json.loads(p.stdout.readline())
call("qmp_capabilities")
pci = call("query-pci")["return"]
ids = ["%04x:%04x" % (d["id"]["vendor"], d["id"]["device"])
       for bus in pci for d in bus["devices"]]
accel = call("query-kvm")["return"]
call("quit")
err = p.stderr.read()
rc = p.wait()
print("devices " + " ".join(ids))
print("kvm enabled %s present %s" % (accel["enabled"], accel["present"]))
print("exit %d" % rc)
for line in err.splitlines():
    print("stderr " + line)
PY
) || { echo "FAIL: QEMU under KVM did not run: $out" >&2; exit 1; }
echo "$out"
echo "$out" | grep -q "^kvm enabled True" || { echo "FAIL: not under KVM" >&2; exit 1; }
echo "$out" | grep "^devices" | grep -q "1234:11e8" && echo "$out" | grep "^devices" |
	grep -q "1234:11e9" || { echo "FAIL: edu and ramdev are not in the VM" >&2; exit 1; }
echo "$out" | grep -q "^exit 0" || { echo "FAIL: QEMU did not quit cleanly" >&2; exit 1; }
# QEMU's own lines (the daemon's start-up line aside)
if echo "$out" | grep "^stderr qemu-system" | grep -qi "vfio\|kvm"; then
	echo "FAIL: QEMU complained about VFIO or KVM" >&2
	exit 1
fi
echo "PASS"
