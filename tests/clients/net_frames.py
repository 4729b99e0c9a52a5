#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Frames for the forwarding test (dpdk_forward.sh), standard library only.

  net_frames.py gen PCAP N         writes N numbered UDP frames, 64..1514 bytes
  net_frames.py cmp SENT GOT       exit 0 if GOT holds SENT's frames, same bytes,
                                   same order; says where they differ otherwise
  net_frames.py tap-echo IFNAME N  sends N numbered frames into IFNAME through a
                                   packet socket and waits (20 s at most) for all
                                   of them to come back, byte for byte
"""
import random
import socket
import struct
import sys
import time

PCAP_MAGIC = 0xa1b2c3d4
DLT_EN10MB = 1
ETHERTYPE = 0x88b5          # IEEE local experimental: no stack answers it
PACKET_OUTGOING = 4


def ip_checksum(header):
    s = sum(struct.unpack('!%dH' % (len(header) // 2), header))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp_frame(seq, size):
    """Ethernet + IPv4 + UDP, `size` bytes in all, numbered in the payload."""
    payload = struct.pack('!I', seq)
    payload += bytes((seq + i) & 0xff for i in range(size - 14 - 20 - 8 - 4))
    udp = struct.pack('!HHHH', 1024 + seq % 50000, 9, 8 + len(payload), 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp) + len(payload), seq & 0xffff,
                     0, 64, 17, 0, bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    ip = ip[:10] + struct.pack('!H', ip_checksum(ip)) + ip[12:]
    eth = bytes.fromhex('020000000002' '020000000001') + struct.pack('!H', 0x0800)
    return eth + ip + udp + payload


def sizes(n):
    """Both extremes first, then a fixed pseudo-random mix."""
    rnd = random.Random(7)
    return [(64, 1514)[i % 2] if i < 4 else rnd.randint(64, 1514) for i in range(n)]


def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, _, _, _, _, _, link = struct.unpack_from('<IHHiIII', data)
    if magic != PCAP_MAGIC or link != DLT_EN10MB:
        raise SystemExit('%s: not a little-endian Ethernet pcap file' % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from('<IIII', data, off)[2]
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


def gen(path, n):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', PCAP_MAGIC, 2, 4, 0, 0, 65535, DLT_EN10MB))
        for seq, size in enumerate(sizes(n)):
            frame = udp_frame(seq, size)
            f.write(struct.pack('<IIII', seq, 0, len(frame), len(frame)) + frame)
    return 0


def cmp(sent_path, got_path):
    sent, got = read_pcap(sent_path), read_pcap(got_path)
    print('%s: %d frames, %d bytes; %s: %d frames, %d bytes' %
          (sent_path, len(sent), sum(map(len, sent)), got_path, len(got), sum(map(len, got))))
    for i, (a, b) in enumerate(zip(sent, got)):
        if a != b:
            print('frame %d differs: sent %d bytes, got %d' % (i, len(a), len(b)))
            return 1
    if len(sent) != len(got):
        print('frame counts differ')
        return 1
    return 0


def tap_frame(seq, size):
    eth = b'\xff' * 6 + bytes.fromhex('020000000003') + struct.pack('!H', ETHERTYPE)
    return eth + struct.pack('!I', seq) + bytes((seq * 3 + i) & 0xff for i in range(size - 18))


def tap_echo(ifname, n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
    s.bind((ifname, ETHERTYPE))
    # room for every frame coming back at once (SO_RCVBUFFORCE, as root)
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
    frames = [tap_frame(seq, size) for seq, size in enumerate(sizes(n))]
    for frame in frames:
        s.send(frame)
    order, bad = [], 0
    deadline = time.monotonic() + 20
    while len(order) < n and time.monotonic() < deadline:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING or len(data) < 18:
            continue
        seq = struct.unpack_from('!I', data, 14)[0]
        if seq >= n or data != frames[seq]:
            bad += 1
            continue
        order.append(seq)
    print('%s: sent %d frames, %d came back (%d in order, %d duplicates), %d unexpected' %
          (ifname, n, len(set(order)), sum(1 for i, s in enumerate(order) if s == i),
           len(order) - len(set(order)), bad))
    return 0 if order == list(range(n)) and not bad else 1


def main(argv):
    if len(argv) == 4 and argv[1] == 'gen':
        return gen(argv[2], int(argv[3]))
    if len(argv) == 4 and argv[1] == 'cmp':
        return cmp(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == 'tap-echo':
        return tap_echo(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
