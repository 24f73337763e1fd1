#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send SIZE bytes of devmem-nc's pattern with some of them urgent.

usage: devmem_oob.py ADDR PORT SIZE OOB_OFFSET [ROUNDS]

The byte at OOB_OFFSET goes out alone with MSG_OOB (the urgent pointer
names it); the rest with send().  With ROUNDS, the stream goes out in
ROUNDS equal parts instead, the last byte of each urgent, with a pause
after each so that the receiver has seen one urgent pointer before the
next.  A receiver that reads the urgent bytes inline sees the pattern
unchanged.

Without ROUNDS the byte is sent only once everything before it has been
acknowledged (SIOCOUTQ 0), so that no segment before it carries a
pointer: a sender marks segments more than 64 KiB before its urgent
pointer with urg_ptr 0xffff (RFC 6093), each a new pointer to the
receiver, a SIGURG each.  Without loss the receiver then gets exactly one
SIGURG.  With ROUNDS data before each urgent byte is in flight when it is
marked (what the lossy test wants: retransmits that carry the pointer
after the byte), so the receiver gets at least ROUNDS SIGURGs.
"""
import fcntl
import socket
import struct
import sys
import termios
import time

M = (1 << 64) - 1
TABLE = bytes(((j * 131) ^ 0x5a) & 0xff for j in range(256))


def block(q):
    x = ((q ^ (q >> 30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
    k = (x ^ (x >> 31)) & 0xff
    return bytes(b ^ k for b in TABLE)


def unacked(s, timeout=30):
    """Wait until nothing sent on s is unacknowledged (SIOCOUTQ 0)."""
    end = time.monotonic() + timeout
    while True:
        n = struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0]
        if not n:
            return
        if time.monotonic() > end:
            sys.exit(f"devmem_oob.py: {n} bytes still unacknowledged after {timeout} s")
        time.sleep(0.01)


def main():
    addr, port, size, oob = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    data = b"".join(block(q) for q in range((size + 255) // 256))[:size]
    s = socket.create_connection((addr, port), timeout=60)
    if rounds:
        urgent = [(k + 1) * size // rounds - 1 for k in range(rounds)]
    else:
        urgent = [oob]
    at = 0
    for u in urgent:
        s.sendall(data[at:u])
        if not rounds:
            unacked(s)
        s.send(data[u:u + 1], socket.MSG_OOB)
        at = u + 1
        if rounds:
            time.sleep(0.3)
    s.sendall(data[at:])
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass


if __name__ == "__main__":
    main()
