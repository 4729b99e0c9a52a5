#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drives a QEMU started with `-qmp stdio -S` that has one vfio-pci device
and checks what the guest sees of it:

  1. before the firmware runs: query-pci lists VENDOR:DEVICE with BAR0 a
     32-bit memory BAR of BAR0_SIZE bytes;
  2. after `cont`, SeaBIOS sizes and assigns the BAR (its writes go through
     to the device's config space) within SETTLE seconds;
  3. a guest-physical read of the BAR's first dword (HMP `xp`, which QEMU
     turns into a region read on the VFIO device fd) returns ID0;
  4. `quit` ends QEMU with status 0, and nothing on its stderr mentions vfio
     or an error/warning (the uvfio daemon's own info lines aside).

Usage: qmp_probe.py --vendor 0x1234 --device 0x11e8 --bar0-size 1048576
                    --id0 0x010000ed -- COMMAND...
Exits 0 on success, 1 with the reason on stderr otherwise.
"""
import argparse
import json
import re
import subprocess
import sys
import threading
import time

# query-pci reports an unassigned BAR as -1 (QEMU 7.2), older ones as 2^64-1.
UNASSIGNED = (-1, 0xffffffffffffffff)


class Failure(Exception):
    pass


class Qmp:
    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.stderr = []
        self.err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self.err_thread.start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))
            sys.stderr.write("qemu stderr: " + line)

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise Failure("QEMU closed its QMP stream (exit status %s)" % self.proc.wait())
        return json.loads(line)

    def greeting(self):
        msg = self._read()
        if "QMP" not in msg:
            raise Failure("no QMP greeting: %r" % msg)

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = self._read()
            if "event" in msg:
                continue
            if "error" in msg:
                raise Failure("QMP %s failed: %s" % (name, msg["error"]))
            return msg["return"]


def find_device(qmp, vendor, device):
    found = []
    for bus in qmp.cmd("query-pci"):
        for dev in bus["devices"]:
            if dev["id"]["vendor"] == vendor and dev["id"]["device"] == device:
                found.append(dev)
    if len(found) != 1:
        raise Failure("query-pci lists %d devices %04x:%04x, want 1" %
                      (len(found), vendor, device))
    return found[0]


def bar0(dev):
    for bar in dev.get("regions", []):
        if bar["bar"] == 0:
            return bar
    raise Failure("device has no BAR0: %r" % dev)


def probe(opts):
    qmp = Qmp(opts.command)
    try:
        qmp.greeting()
        qmp.cmd("qmp_capabilities")

        bar = bar0(find_device(qmp, opts.vendor, opts.device))
        if bar["type"] != "memory" or bar.get("mem_type_64") or bar["size"] != opts.bar0_size:
            raise Failure("BAR0 is %r, want a 32-bit memory BAR of %d bytes" %
                          (bar, opts.bar0_size))
        print("BAR0 before firmware: %r" % bar)

        qmp.cmd("cont")
        deadline = time.monotonic() + opts.settle
        while bar["address"] in UNASSIGNED:
            if time.monotonic() > deadline:
                raise Failure("SeaBIOS did not assign BAR0 within %d s" % opts.settle)
            time.sleep(0.2)
            bar = bar0(find_device(qmp, opts.vendor, opts.device))
        print("BAR0 after firmware: %r" % bar)
        if bar["size"] != opts.bar0_size or bar["address"] % opts.bar0_size:
            raise Failure("BAR0 assigned as %r" % bar)

        out = qmp.cmd("human-monitor-command", **{"command-line": "xp /1wx %#x" %
                                                  bar["address"]})
        m = re.search(r":\s*(0x[0-9a-f]+)", out)
        if not m or int(m.group(1), 16) != opts.id0:
            raise Failure("read of BAR0+0 gave %r, want %#x" % (out.strip(), opts.id0))
        print("BAR0+0 reads %s" % m.group(1))

        qmp.cmd("quit")
        status = qmp.proc.wait(timeout=20)
    finally:
        # On any failure, SIGTERM lets `uvfio run` pass it on and reap its daemon.
        if qmp.proc.poll() is None:
            qmp.proc.terminate()
            try:
                qmp.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                qmp.proc.kill()
        qmp.err_thread.join(5)

    if status != 0:
        raise Failure("QEMU exited with status %d" % status)
    bad = [line for line in qmp.stderr
           if re.search(r"vfio|error|warn", line, re.I) and not line.startswith("uvfiod: info:")]
    if bad:
        raise Failure("QEMU complained:\n  " + "\n  ".join(bad))


def main():
    ap = argparse.ArgumentParser()
    num = lambda s: int(s, 0)
    ap.add_argument("--vendor", type=num, required=True)
    ap.add_argument("--device", type=num, required=True)
    ap.add_argument("--bar0-size", type=num, required=True)
    ap.add_argument("--id0", type=num, required=True)
    ap.add_argument("--settle", type=int, default=30)
    ap.add_argument("command", nargs="+")
    opts = ap.parse_args()
    try:
        probe(opts)
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
