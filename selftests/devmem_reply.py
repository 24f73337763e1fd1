#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Replies of the devmem family that cannot be delivered.

A request whose reply cannot reach the caller (its netlink socket's receive
queue is full) must leave nothing the caller does not know of:

  bind        a persistent binding whose reply was lost is unbound again
  dmabuf-get  no file descriptor is installed for a reply that was lost

The requests are sent on a socket with a tiny receive buffer that is first
filled with dump replies nobody reads; a second socket checks the result.
Prints TAP lines for devmem_semantics.sh.  Raw netlink on purpose: no
library would let a request be sent with its reply bound to fail.

usage: devmem_reply.py IFINDEX   (a device that can transmit from device
memory, in the current netns; run as root)
"""
import errno
import fcntl
import mmap
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
# include/uapi/linux/devmem.h
CMD_BIND, CMD_UNBIND, CMD_BINDING_GET, CMD_DMABUF_GET = 1, 2, 3, 5
A_ID, A_IFINDEX, A_FD, A_DIRECTION, A_LIFETIME = 1, 2, 3, 5, 6
DIRECTION_TX, LIFETIME_PERSISTENT = 1, 0
UDMABUF_CREATE = 0x40187542
F_ADD_SEALS, F_SEAL_SHRINK = 1033, 2

n = 0
failed = 0


def tap(ok, what, diag=""):
    global n, failed
    n += 1
    if diag:
        print("# " + diag)
    print(("ok %d " if ok else "not ok %d ") % n + what)
    if not ok:
        failed += 1


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def u32(t, v):
    return attr(t, struct.pack("=I", v))


class Genl:
    seq = 1

    def __init__(self, rcvbuf=None):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.bind((0, 0))

    def send(self, fam, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK):
        Genl.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + attrs
        self.s.send(struct.pack("=IHHII", 16 + len(body), fam, flags, Genl.seq, 0) + body)
        return Genl.seq

    def msgs(self, block=True):
        """the messages queued on the socket: (type, payload) tuples"""
        out = []
        while True:
            try:
                data = self.s.recv(65536, 0 if block else socket.MSG_DONTWAIT)
            except BlockingIOError:
                return out
            except OSError as e:
                out.append(("sockerr", e.errno))
                return out
            block = False
            off = 0
            while off + 16 <= len(data):
                ln, typ, _, _, _ = struct.unpack_from("=IHHII", data, off)
                out.append((typ, data[off + 16:off + ln]))
                off += (ln + 3) & ~3

    def call(self, fam, cmd, attrs=b""):
        """errno (0 = ok) and the reply's attributes"""
        self.send(fam, cmd, attrs)
        reply = {}
        while True:
            for typ, p in self.msgs():
                if typ == NLMSG_ERROR:
                    return -struct.unpack_from("=i", p)[0], reply
                if typ == "sockerr":
                    return p, reply
                reply = parse(p[4:])


def parse(b):
    out, off = {}, 0
    while off + 4 <= len(b):
        ln, t = struct.unpack_from("=HH", b, off)
        out[t & 0x3fff] = b[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def family(nl, name):
    err, r = nl.call(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                     attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
    if err:
        sys.exit("devmem_reply: no %s family: %s" % (name, os.strerror(err)))
    return struct.unpack("=H", r[CTRL_ATTR_FAMILY_ID][:2])[0]


def udmabuf(size):
    mfd = os.memfd_create("devmem_reply", os.MFD_ALLOW_SEALING)
    os.ftruncate(mfd, size)
    fcntl.fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)
    dev = os.open("/dev/udmabuf", os.O_RDWR)
    # a mutable buffer: ioctl() then returns the call's result, the new fd
    fd = fcntl.ioctl(dev, UDMABUF_CREATE, bytearray(struct.pack("=IIQQ", mfd, 0, 0, size)))
    os.close(dev)
    os.close(mfd)
    return fd


def bindings(nl, fam):
    """ids of the bindings listed in this netns"""
    nl.send(fam, CMD_BINDING_GET, flags=NLM_F_REQUEST | NLM_F_DUMP)
    ids = set()
    while True:
        for typ, p in nl.msgs():
            if typ == NLMSG_DONE:
                return ids
            if typ == NLMSG_ERROR or typ == "sockerr":
                sys.exit("devmem_reply: dump failed")
            ids.add(struct.unpack("=I", parse(p[4:])[A_ID][:4])[0])


def flooded():
    """a socket whose receive queue is full of unread dump replies"""
    nl = Genl(rcvbuf=1)	# the kernel's minimum, a few KiB
    fam = family(nl, "devmem")
    for _ in range(64):
        nl.send(fam, CMD_BINDING_GET, flags=NLM_F_REQUEST | NLM_F_DUMP)
    return nl, fam


def open_fds():
    """this process's open fds, without the one listing them used"""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(fd))
            out.add(fd)
        except OSError:
            pass
    return out


def main():
    ifindex = int(sys.argv[1])
    check = Genl()
    fam = family(check, "devmem")
    dmabuf = udmabuf(1 << 20)

    # a persistent bind whose reply is lost
    before = bindings(check, fam)
    nl, _ = flooded()
    nl.send(fam, CMD_BIND, u32(A_IFINDEX, ifindex) + u32(A_FD, dmabuf) +
            u32(A_DIRECTION, DIRECTION_TX) + u32(A_LIFETIME, LIFETIME_PERSISTENT))
    got = nl.msgs(block=False)
    lost = ("sockerr", errno.ENOBUFS) in got
    left = bindings(check, fam) - before
    tap(lost, "bind on a full socket: its reply is lost (the caller sees ENOBUFS)",
        "" if lost else "messages: %s" % [t for t, _ in got][:8])
    tap(not left, "...and the persistent binding it made is gone again",
        "" if not left else "left behind: bindings %s" % sorted(left))
    for i in left:
        check.call(fam, CMD_UNBIND, u32(A_ID, i))
    nl.s.close()

    # a dmabuf-get whose reply is lost
    err, r = check.call(fam, CMD_BIND, u32(A_IFINDEX, ifindex) + u32(A_FD, dmabuf) +
                        u32(A_DIRECTION, DIRECTION_TX) + u32(A_LIFETIME, LIFETIME_PERSISTENT))
    tap(err == 0, "a persistent tx binding to get the dmabuf of",
        "" if not err else "bind: %s" % os.strerror(err))
    if err:
        return
    bid = struct.unpack("=I", r[A_ID][:4])[0]
    nl, _ = flooded()
    fds = open_fds()
    nl.send(fam, CMD_DMABUF_GET, u32(A_ID, bid))
    got = nl.msgs(block=False)
    extra = open_fds() - fds
    tap(("sockerr", errno.ENOBUFS) in got, "dmabuf-get on a full socket: its reply is lost")
    tap(not extra, "...and no descriptor was installed for it",
        "" if not extra else "new fds: %s" % sorted(extra))
    for fd in extra:
        os.close(int(fd))
    nl.s.close()

    # the same request on a socket that reads its replies gets a dmabuf
    fds = open_fds()
    err, r = check.call(fam, CMD_DMABUF_GET, u32(A_ID, bid))
    extra = open_fds() - fds
    ok = err == 0 and A_FD in r and extra == {str(struct.unpack("=I", r[A_FD][:4])[0])}
    if ok:
        fd = struct.unpack("=I", r[A_FD][:4])[0]
        ok = os.fstat(fd).st_size == 1 << 20 or len(mmap.mmap(fd, 1 << 20)) == 1 << 20
        os.close(fd)
    tap(ok, "dmabuf-get read normally: exactly one new descriptor, the dmabuf",
        "" if ok else "err %d reply %s new fds %s" % (err, sorted(r), sorted(extra)))
    err, _ = check.call(fam, CMD_UNBIND, u32(A_ID, bid))
    tap(err == 0, "unbound")


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
