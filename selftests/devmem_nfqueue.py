#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An nfqueue reader that accepts every packet: raw NETLINK_NETFILTER.

usage: devmem_nfqueue.py QUEUE COPY_RANGE

Binds nfqueue QUEUE in copy-packet mode with COPY_RANGE bytes and the
GSO flag (GRO-merged packets are queued whole, not segmented), prints
"listening" on stderr, and gives every queued packet an NF_ACCEPT
verdict until SIGTERM. Then prints a JSON object on stdout: "packets"
queued and the sorted set of "copy-lengths" (payload attribute sizes).
"""
import json
import signal
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_PAYLOAD = 1, 2, 10
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 4, 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NFQA_CFG_F_GSO = 1 << 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def nla(kind, data):
    hdr = struct.pack("=HH", 4 + len(data), kind)
    return hdr + data + b"\0" * (-len(data) % 4)


def attrs(buf):
    out = {}
    while len(buf) >= 4:
        length, kind = struct.unpack_from("=HH", buf)
        if length < 4:
            break
        out[kind & 0x3fff] = buf[4:length]
        buf = buf[(length + 3) & ~3:]
    return out


class Queue:
    def __init__(self, num):
        self.num = num
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((0, 0))

    def send(self, msg, payload, flags=0):
        self.seq += 1
        body = struct.pack("!BBH", socket.AF_UNSPEC, 0, self.num) + payload
        hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg,
                          NLM_F_REQUEST | flags, self.seq, 0)
        self.sock.send(hdr + body)

    def config(self, payload):
        self.send(NFQNL_MSG_CONFIG, payload, NLM_F_ACK)
        data = self.sock.recv(65536)
        _, kind = struct.unpack_from("=IH", data)
        err = struct.unpack_from("=i", data, 16)[0] if kind == NLMSG_ERROR else -1
        if err:
            raise OSError(-err, "nfqueue config refused")


def main():
    num, copy_range = int(sys.argv[1]), int(sys.argv[2])
    q = Queue(num)
    q.config(nla(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)))
    q.config(nla(NFQA_CFG_PARAMS, struct.pack("!IB", copy_range, NFQNL_COPY_PACKET)) +
             nla(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_GSO)) +
             nla(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_GSO)))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("listening", file=sys.stderr, flush=True)
    packets, lengths = 0, set()
    q.sock.settimeout(0.2)
    while not stop:
        try:
            data = q.sock.recv(1 << 17)
        except (socket.timeout, InterruptedError):
            continue
        while len(data) >= 16:
            length, kind = struct.unpack_from("=IH", data)
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                a = attrs(data[20:length])
                pid = struct.unpack_from("!I", a[NFQA_PACKET_HDR])[0]
                packets += 1
                lengths.add(len(a.get(NFQA_PAYLOAD, b"")))
                q.send(NFQNL_MSG_VERDICT, nla(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid)))
            data = data[(length + 3) & ~3:]
    print(json.dumps({"packets": packets, "copy-lengths": sorted(lengths)}))


if __name__ == "__main__":
    main()
