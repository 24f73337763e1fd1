#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send SIZE bytes of devmem-nc's pattern in ROUNDS urgent parts.

usage: devmem_oob.py ADDR PORT SIZE ROUNDS

The stream goes out in ROUNDS equal parts, the last byte of each alone
with MSG_OOB (the urgent pointer names it), with a pause after each so
that the receiver has seen one urgent pointer before the next.  A
receiver that reads the urgent bytes inline sees the pattern unchanged.

Unlike devmem-nc --urgent (which sends an urgent byte only once all
before it is acknowledged), data before each urgent byte is still in
flight when it is marked: what the lossy test wants, retransmits that
carry the pointer after the byte.  A sender also marks segments more
than 64 KiB before its urgent pointer with urg_ptr 0xffff (RFC 6093),
each a new pointer to the receiver, so the receiver gets at least
ROUNDS SIGURGs.
"""
import socket
import sys
import time

M = (1 << 64) - 1
TABLE = bytes(((j * 131) ^ 0x5a) & 0xff for j in range(256))


def block(q):
    x = ((q ^ (q >> 30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
    k = (x ^ (x >> 31)) & 0xff
    return bytes(b ^ k for b in TABLE)


def main():
    addr, port, size, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = b"".join(block(q) for q in range((size + 255) // 256))[:size]
    s = socket.create_connection((addr, port), timeout=60)
    at = 0
    for k in range(rounds):
        u = (k + 1) * size // rounds - 1
        s.sendall(data[at:u])
        s.send(data[u:u + 1], socket.MSG_OOB)
        at = u + 1
        time.sleep(0.3)
    s.sendall(data[at:])
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass


if __name__ == "__main__":
    main()
