# SPDX-License-Identifier: MIT
# Driving an interactive dpdk-testpmd on a uvfio daemon: shared by the DPDK
# client tests and the testpmd benchmark (sourced, not run).  The caller sets
# $uvfio (the CLI), $work (a scratch directory) and $bdf (the port's
# function); $pmd_pid is testpmd's PID while it runs.  A caller may define
# its own fail after sourcing this.

# fail MESSAGE: the test fails, showing the end of testpmd's output.
fail()
{
	echo "FAIL: $*" >&2
	[ -s "$work/out" ] &&
		grep -v "open shared lib\|log level changed" "$work/out" | tail -n 60 >&2
	exit 1
}

# wait_daemon DIR: until the daemon serving DIR answers (1: it never did).
wait_daemon()
{
	for _ in $(seq 100); do
		"$uvfio" ls --dir "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# testpmd echoes each command line with a new prompt once the previous
# command has finished: counting prompts tells where it is.
prompts()
{
	grep -c "testpmd> " "$work/out" || true
}

# run_cmd COMMAND: sends it to testpmd and waits for the next prompt.
run_cmd()
{
	local want=$(( $(prompts) + 1 ))

	echo "$*" >&3
	for _ in $(seq 300); do
		[ "$(prompts)" -ge "$want" ] && return 0
		kill -0 "$pmd_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_testpmd DIR NAME [APP ARGS...]: interactive testpmd on the daemon at
# DIR with only $bdf allowed and a private file prefix (NAME-PID), fed
# through a FIFO on fd 3, its output line-buffered (stdbuf) into $work/out so
# statistics can be read while it runs; returns at its first prompt.
start_testpmd()
{
	local dir=$1 name=$2

	shift 2
	rm -f "$work/in"
	mkfifo "$work/in"
	exec 3<>"$work/in"
	: >"$work/out"
	timeout --kill-after=5 120 "$uvfio" run --connect "$dir" -- \
		stdbuf -oL dpdk-testpmd -a "$bdf" --no-huge -m 512 --file-prefix "$name-$$" \
		-- -i "$@" <&3 >"$work/out" 2>&1 &
	pmd_pid=$!
	for _ in $(seq 300); do
		[ "$(prompts)" -ge 1 ] && break
		kill -0 "$pmd_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(prompts)" -ge 1 ] || fail "testpmd did not reach its prompt"
}

# stop_testpmd: quits testpmd; returns its exit status.
stop_testpmd()
{
	local status=0

	echo quit >&3
	wait "$pmd_pid" || status=$?
	pmd_pid=
	exec 3>&-
	return "$status"
}
