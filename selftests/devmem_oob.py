#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send SIZE bytes of devmem-nc's pattern with some of them urgent.

usage: devmem_oob.py ADDR PORT SIZE OOB_OFFSET [ROUNDS]

The byte at OOB_OFFSET goes out alone with MSG_OOB (the urgent pointer
names it); the rest with send().  With ROUNDS, the stream goes out in
ROUNDS equal parts instead, the last byte of each urgent, with a pause
after each so that the receiver has seen one urgent pointer before the
next: it gets exactly ROUNDS SIGURGs.  A receiver that reads the urgent
bytes inline sees the pattern unchanged.
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
