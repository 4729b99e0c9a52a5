#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The daemon's directory is not trusted blindly: a root daemon refuses a
# directory another user owns, one others may write and one that is a
# symlink, leaving whatever a planted symlink points at untouched; a fresh
# directory is made 0700 (or --dir-mode) and serves; a symlink planted in a
# directory of ours is replaced, never written through.
#
#   test_daemon_dir.sh UVFIO_CLI EDU_DEMO
#
# Needs root (a root daemon is the case that matters, and becoming another
# user needs it): otherwise SKIP, exit 77.  $UVFIO_TEST_PRELOAD goes before
# the shim for a client program (a sanitizer runtime in sanitizer builds).
set -u

uvfio=$1
edu_demo=$2

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: test_daemon_dir needs root (a root daemon on a directory it must not" \
		"trust); NOT RUN" >&2
	exit 77
fi
command -v setpriv >/dev/null || { echo "FAIL: setpriv (util-linux) is needed" >&2; exit 1; }

nobody=65534
failed=0
reported=0
daemon_pid=
work=$(mktemp -d /tmp/uvfio-dirtest.XXXXXX)
foreign=
chmod 0755 "$work"	# so that another user can reach a shared daemon in it

cleanup()
{
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"
	rm -rf "$work"
	[ -n "$foreign" ] && rm -rf "$foreign"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
# ok MESSAGE: says it if nothing failed since the last ok.
ok()
{
	[ $failed -eq $reported ] && echo "ok: $*"
	reported=$failed
}
as_nobody() { setpriv --reuid $nobody --regid $nobody --clear-groups "$@"; }

# Root-only files and directories a planted symlink points at.
secret=$work/secret
echo "root only" >"$secret"
chmod 0600 "$secret"
victim=$work/victim
mkdir -p "$victim/sys" "$victim/dev"
echo marker >"$victim/sys/marker"
echo marker >"$victim/dev/marker"
echo marker >"$victim/marker"
chmod -R go-rwx "$victim"

# untouched: the secret and the victim tree are as made above.
untouched()
{
	[ "$(cat "$secret")" = "root only" ] &&
		[ "$(stat -c '%a %u' "$secret")" = "600 0" ] &&
		[ "$(find "$victim" | sort | tr '\n' ' ')" = \
		  "$victim $victim/dev $victim/dev/marker $victim/marker $victim/sys $victim/sys/marker " ] &&
		[ "$(stat -c '%a' "$victim")" = 700 ]
}

# refused CASE DIR PATTERN [OPTIONS...]: the daemon does not start on DIR
# and says why.
refused()
{
	local what=$1 dir=$2 pattern=$3 out rc
	shift 3
	reported=$failed

	out=$(timeout 20 "$uvfio" daemon --dir "$dir" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
		fail "$what: the daemon started (status $rc): $out"
	elif ! grep -q "$pattern" <<<"$out"; then
		fail "$what: refused, but not saying \"$pattern\": $out"
	fi
	untouched || fail "$what: a planted symlink's target changed"
	ok "$what: refused ($(grep -m1 "uvfiod" <<<"$out"))"
}

# start DIR [OPTIONS...]: a daemon serving DIR in the background.
start()
{
	local dir=$1
	shift

	"$uvfio" daemon --dir "$dir" "$@" </dev/null &
	daemon_pid=$!
	for _ in $(seq 100); do
		"$uvfio" ls --dir "$dir" >/dev/null 2>&1 && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "the daemon does not serve $dir"
	return 1
}

stop()
{
	local rc

	kill "$daemon_pid"
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	[ $rc -eq 0 ] || fail "the daemon exited with status $rc"
}

# serves DIR: an administrative command and a driver both work.
serves()
{
	local out

	"$uvfio" ls --dir "$1" | grep -q "^0000:10:00.0 .*edu" ||
		fail "$1: uvfio ls does not list the edu device"
	out=$(LD_PRELOAD=${UVFIO_TEST_PRELOAD-} "$uvfio" run --connect "$1" -- "$edu_demo" 2>&1) ||
		fail "$1: edu-demo through the daemon failed: $out"
}

# (1) a directory another user made in /tmp, full of symlinks named like what
# the daemon writes, pointing at root-only files.
foreign=$(as_nobody mktemp -d /tmp/uvfio-foreign.XXXXXX)
for name in uvfiod.sock redirects redirects.tmp; do
	as_nobody ln -s "$secret" "$foreign/$name"
done
for name in root root.stage root.old; do
	as_nobody ln -s "$victim" "$foreign/$name"
done
refused "another user's directory" "$foreign" "owned by uid $nobody"
refused "another user's directory, --dir-mode 0755" "$foreign" "owned by uid $nobody" \
	--dir-mode 0755
[ "$(find "$foreign" -mindepth 1 ! -type l | wc -l)" -eq 0 ] &&
	[ "$(find "$foreign" -mindepth 1 -type l | wc -l)" -eq 6 ] ||
	fail "another user's directory: its contents changed"
[ "$(stat -c '%a %u' "$foreign")" = "700 $nobody" ] ||
	fail "another user's directory: its mode or owner changed"

# (2) ours, but others may write to it (and so plant symlinks at any time).
mkdir "$work/open"
chmod 0777 "$work/open"
ln -s "$secret" "$work/open/redirects"
refused "a directory writable by all" "$work/open" "writable by group or others"
chmod 1777 "$work/open"
refused "a sticky directory writable by all" "$work/open" "writable by group or others"
chmod 0770 "$work/open"
refused "a directory writable by its group" "$work/open" "writable by group or others"
[ "$(stat -c '%a' "$work/open")" = 770 ] || fail "a refused directory's mode changed"

# (3) the directory itself a symlink, even to a directory that would do.
mkdir -m 0700 "$work/good"
ln -s "$work/good" "$work/link"
refused "a symlink to a directory" "$work/link" "is a symlink"
ln -s "$victim" "$work/link2"
refused "a symlink to a root-only directory" "$work/link2" "is a symlink"
[ -z "$(ls -A "$work/good")" ] || fail "the symlink's target directory was written to"

# A mode that would let others write is no mode to ask for.
refused "--dir-mode 0777" "$work/fresh-bad" "dir-mode" --dir-mode 0777
[ ! -e "$work/fresh-bad" ] || fail "--dir-mode 0777: the directory was made"

# (4) a fresh path: made 0700, serves; others cannot reach it.
if start "$work/fresh"; then
	mode=$(stat -c '%a %u %F' "$work/fresh")
	[ "$mode" = "700 0 directory" ] || fail "a fresh directory is $mode, not 700 root"
	[ "$(stat -c '%a %F' "$work/fresh/uvfiod.sock")" = "666 socket" ] ||
		fail "the socket is $(stat -c '%a %F' "$work/fresh/uvfiod.sock")"
	serves "$work/fresh"
	as_nobody "$uvfio" ls --dir "$work/fresh" >/dev/null 2>&1 &&
		fail "another user reached a 0700 daemon directory"
	stop
	[ ! -e "$work/fresh/uvfiod.sock" ] || fail "the socket outlived the daemon"
	ok "a fresh directory: 0700, serves, closed to others"
fi
# ... and with --dir-mode 0755 a shared host: other users' programs reach it.
if start "$work/shared" --dir-mode 0755; then
	[ "$(stat -c '%a' "$work/shared")" = 755 ] ||
		fail "--dir-mode 0755 made $(stat -c '%a' "$work/shared")"
	serves "$work/shared"
	as_nobody "$uvfio" ls --dir "$work/shared" | grep -q "^0000:10:00.0 .*edu" ||
		fail "another user cannot reach a 0755 daemon directory"
	stop
	ok "--dir-mode 0755: a shared host"
fi
# An existing directory of ours keeps its mode unless --dir-mode says.
mkdir -m 0711 "$work/existing"
if start "$work/existing"; then
	[ "$(stat -c '%a' "$work/existing")" = 711 ] || fail "an existing directory's mode changed"
	stop
fi
if start "$work/existing" --dir-mode 0750; then
	[ "$(stat -c '%a' "$work/existing")" = 750 ] ||
		fail "--dir-mode 0750 on an existing directory made $(stat -c '%a' "$work/existing")"
	stop
	ok "an existing directory of ours: accepted, mode kept or set by --dir-mode"
fi

# (5) symlinks planted in our own directory where the daemon creates files and
# directories: replaced, never followed.
mkdir -m 0700 "$work/planted"
for name in uvfiod.sock redirects redirects.tmp; do
	ln -s "$secret" "$work/planted/$name"
done
for name in root root.stage root.old; do
	ln -s "$victim" "$work/planted/$name"
done
if start "$work/planted"; then
	untouched || fail "planted symlinks: a target changed while the daemon started"
	for name in root redirects uvfiod.sock; do
		[ -L "$work/planted/$name" ] && fail "planted symlinks: $name is still a symlink"
	done
	[ -d "$work/planted/root/sys/bus/pci/devices" ] || fail "planted symlinks: no sysfs view"
	[ -f "$work/planted/redirects" ] || fail "planted symlinks: no redirects file"
	serves "$work/planted"
	"$uvfio" unbind 0000:10:02.1 --dir "$work/planted" >/dev/null ||
		fail "planted symlinks: unbind (a rewrite of the view) failed"
	stop
	untouched || fail "planted symlinks: a target changed"
	ok "symlinks planted in our own directory: replaced, targets untouched"
fi

if [ $failed -ne 0 ]; then
	echo "test_daemon_dir: FAILED"
	exit 1
fi
echo "test_daemon_dir: all passed"
