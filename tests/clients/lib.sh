# SPDX-License-Identifier: MIT
# Shared by the client tests: sourced, not run.

# need_program PROGRAM PACKAGE: makes PROGRAM available, installing the Debian
# PACKAGE when we are root and have apt-get; otherwise fails the test loudly,
# naming what is missing (a client test never passes without its client).
need_program()
{
	local prog=$1 pkg=$2

	command -v "$prog" >/dev/null && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "$prog missing: installing Debian package $pkg"
		# Client tests run in parallel and may both want apt: wait for its lock.
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y \
			--no-install-recommends "$pkg" || {
			echo "FAIL: could not install $pkg (for $prog)" >&2
			exit 1
		}
		command -v "$prog" >/dev/null && return 0
	fi
	echo "FAIL: $prog not found: install the Debian package $pkg" >&2
	exit 1
}
