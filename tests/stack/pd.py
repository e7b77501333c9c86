"""The socket calls of packetdrill's scripts, for the kernel-side programs beside
each translation in tests/stack (run inside the test bed's server namespace).

A program prints `ready` once it listens (tests/session_stack_packetdrill.rs starts
tcpcraft then), checks each call's result as packetdrill does (`= 0`, `= -1 EPIPE`),
and exits 0 after printing `ok`, or 1 naming the call that differed.
"""
import errno
import fcntl
import signal
import socket
import struct
import sys
import termios
import time

SERVER = "198.18.0.2"  # the server namespace (this program)
CLIENT = "198.18.0.1"  # the client namespace (tcpcraft)

# No program may outlive its test.
signal.alarm(20)


def fail(what):
    print(f"FAIL: {what}", flush=True)
    sys.exit(1)


def check(what, got, want):
    if got != want:
        fail(f"{what} = {got!r}, expected {want!r}")


def _cubic(s):
    # packetdrill's defaults.sh picks cubic; a namespace may only choose among the
    # host's allowed algorithms, so it is set per socket (root may choose any).
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")


def listen_accept(port):
    """socket(), setsockopt(SO_REUSEADDR), bind(), listen(3, 1), accept()."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _cubic(ls)
    ls.bind((SERVER, port))
    ls.listen(1)
    print("ready", flush=True)
    conn, _ = ls.accept()
    ls.close()
    return conn


def connect(port):
    """socket(), connect() to tcpcraft's listen(port) in the client namespace."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    _cubic(s)
    s.connect((CLIENT, port))
    return s


def write_fails(s, err):
    """write(4, ..., 1000) = -1 ERR"""
    try:
        s.send(b"x" * 1000)
    except OSError as e:
        check("write errno", errno.errorcode.get(e.errno), errno.errorcode[err])
        return
    fail("write succeeded, expected an error")


def read_exactly(s, n):
    """read(4, ..., n) = n (however the bytes came)"""
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            fail(f"read: EOF after {len(got)} of {n} bytes")
        got += chunk
    return got


def _ioctl_int(s, req):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), req, b"\0\0\0\0"))[0]


def inq(s):
    """ioctl(4, SIOCINQ): bytes waiting to be read."""
    return _ioctl_int(s, termios.FIONREAD)


def wait_all_acked(s):
    """Until ioctl(SIOCOUTQ) is 0: every byte written has been acknowledged."""
    while _ioctl_int(s, termios.TIOCOUTQ) != 0:
        time.sleep(0.001)


TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
              5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT",
              9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


def state(s):
    """The socket's TCP state (getsockopt TCP_INFO)."""
    return TCP_STATES[s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]]


def wait_fin_acked(s):
    """Until our FIN is acknowledged (FIN_WAIT1 left): packetdrill's ordering of a call
    after an inbound ACK, e.g. write() = -1 EPIPE once the client ACKed our FIN."""
    while state(s) in ("ESTABLISHED", "FIN_WAIT1"):
        time.sleep(0.001)


def wait_inq(s, n):
    """Until n bytes are waiting to be read (ioctl SIOCINQ)."""
    while inq(s) < n:
        time.sleep(0.001)


_signals = []


def signal_script(port):
    """Tells the tcpcraft script that we got here, when nothing on the wire would: one
    SYN to its control listener (`ctl = listen(port, timeout=0)` ... `ctl.expect("S")`),
    from a non-blocking connect() that is never completed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    check("connect errno", s.connect_ex((CLIENT, port)), errno.EINPROGRESS)
    _signals.append(s)


def ok():
    print("ok", flush=True)
    sys.exit(0)
