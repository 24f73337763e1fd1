#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send SIZE bytes of devmem-nc's pattern with one of them urgent.

usage: devmem_oob.py ADDR PORT SIZE OOB_OFFSET

The byte at OOB_OFFSET goes out alone with MSG_OOB (the urgent pointer
names it); the rest with send().  A receiver that reads the urgent byte
inline sees the pattern unchanged.
"""
import socket
import sys

M = (1 << 64) - 1
TABLE = bytes(((j * 131) ^ 0x5a) & 0xff for j in range(256))


def block(q):
    x = ((q ^ (q >> 30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
    k = (x ^ (x >> 31)) & 0xff
    return bytes(b ^ k for b in TABLE)


def main():
    addr, port, size, oob = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = b"".join(block(q) for q in range((size + 255) // 256))[:size]
    s = socket.create_connection((addr, port), timeout=60)
    s.sendall(data[:oob])
    s.send(data[oob:oob + 1], socket.MSG_OOB)
    s.sendall(data[oob + 1:])
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass


if __name__ == "__main__":
    main()
