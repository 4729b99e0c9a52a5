# SPDX-License-Identifier: MIT
# Shared by the client tests: sourced, not run.

# Is the Debian package installed?
installed()
{
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# apt_install PACKAGE: installs it when we are root and have apt-get; else or
# on failure fails the test loudly (a client test never passes without its
# client).
apt_install()
{
	local pkg=$1

	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		echo "FAIL: the Debian package $pkg is needed: install it" >&2
		exit 1
	fi
	echo "$pkg missing: installing it"
	# Client tests run in parallel and may both want apt: wait for its lock.
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y \
		--no-install-recommends "$pkg" || {
		echo "FAIL: could not install $pkg" >&2
		exit 1
	}
}

# need_package PACKAGE: the package itself (the kernel is no program, and
# Debian's dynamic busybox is also a `busybox`).
need_package()
{
	installed "$1" || apt_install "$1"
}

# need_program PROGRAM PACKAGE: makes PROGRAM available from PACKAGE.
need_program()
{
	command -v "$1" >/dev/null && return 0
	apt_install "$2"
	command -v "$1" >/dev/null && return 0
	echo "FAIL: $1 not found after installing $2" >&2
	exit 1
}

# print_doorbell UVFIO_CLI DAEMON_DIR BENCH_ACCESS: what a driver pays per
# doorbell, measured by bench_access on the daemon at DAEMON_DIR, printed as
# one line: a register write to a memory BAR (posted) and a synchronous
# access (a register read; an I/O-port write such as legacy virtio's
# QUEUE_NOTIFY costs the same round trip).
print_doorbell()
{
	local out posted rt

	out=$("$1" run --connect "$2" -- "$3" 2>&1) || {
		echo "FAIL: bench_access failed: $out" >&2
		exit 1
	}
	posted=$(echo "$out" | sed -n 's/^ *edu BAR0 4-byte write *median *\([0-9.]*\) us.*/\1/p')
	rt=$(echo "$out" | sed -n 's/^ *edu BAR0 4-byte read *median *\([0-9.]*\) us.*/\1/p')
	[ -n "$posted" ] && [ -n "$rt" ] ||
		{ echo "FAIL: no BAR0 figures from bench_access" >&2; exit 1; }
	echo "  doorbell, median: memory BAR write (posted) $posted us;" \
		"synchronous register access (read, I/O-port write) $rt us"
}

# kvm_boots_linux KERNEL INITRD: can /dev/kvm boot the guest image
# (tests/clients/guest) to its init within 20 s?  A KVM that cannot run a
# standard kernel does not get there: PVM (module kvm_pvm) runs a kernel not
# built as a PVM guest in KVM's instruction emulator, slower than TCG, until
# an instruction the emulator lacks stops it ("KVM internal error").
kvm_boots_linux()
{
	[ -w /dev/kvm ] || return 1
	timeout 20 qemu-system-x86_64 -accel kvm -m 256 -nographic -no-reboot -nodefaults \
		-serial stdio -kernel "$1" -initrd "$2" -append "console=ttyS0 panic=-1" \
		</dev/null 2>/dev/null | grep -q "GUEST: .* init started"
}
