#!/usr/bin/env python3
"""Real kernel listeners for the tcpcraft test bed and lab.

Runs inside the server network namespace. Every argument is KIND:PORT:
  http:80   TCP, answers any request with a short HTTP/1.0 response, then closes
  echo:7    TCP, echoes every byte back until the peer closes
  uecho:7   UDP, echoes every datagram back
  open:N    TCP, accepts and closes (an open port and nothing more)
  acceptclose:N  the same as open:N, under a name that says what it does
  pingpong:N     TCP, reads lines and answers "pong\n" to each one; closes as soon as
                 the peer closes, so the kernel's ACK of the peer's FIN rides on the
                 server's own FIN (a three-segment teardown)
  greet:N        TCP, sends "hello\n" at once after accept, then closes at once: the
                 server closes first (its socket goes through FIN_WAIT_1/2, TIME_WAIT)
  lateclose:N    TCP, echoes data; after the peer's FIN it waits 1 s, then closes, so
                 the ACK of the peer's FIN and the server's FIN come 1 s apart (the
                 four-segment teardown, with the server in CLOSE_WAIT meanwhile)
  halfclose:N    TCP, reads until the peer's FIN, then sends "got N bytes\n" (the count
                 of bytes read) and closes: it answers only once the peer half-closed
  slowack:N      TCP, echoes each read 300 ms after it arrived, so the kernel's delayed
                 ACK of the data goes out alone before the answer
A TCP connection that makes no progress for 5 s is closed, so a forgotten one cannot
pin a thread. Sockets are IPv6 with V6ONLY off, so they answer IPv4 and IPv6 alike.
Prints "ready" on stdout once every socket listens, so callers can wait for it.
"""
import socket
import sys
import threading
import time

HTTP = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
        b"Connection: close\r\n\r\nhello from tcpcraft\n")


TCP_KINDS = ("http", "echo", "open", "acceptclose", "pingpong", "greet", "lateclose",
             "halfclose", "slowack")


def tcp_socket(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(4096)
    return s


def serve_conn(kind, conn):
    try:
        conn.settimeout(5)
        if kind == "http":
            data = b""
            while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            conn.sendall(HTTP)
        elif kind in ("echo", "lateclose", "slowack"):
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                if kind == "slowack":
                    time.sleep(0.3)
                conn.sendall(chunk)
            if kind == "lateclose":
                time.sleep(1)
        elif kind == "pingpong":
            pending = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                pending += chunk
                lines = pending.count(b"\n")
                if lines:
                    pending = pending[pending.rindex(b"\n") + 1:]
                    conn.sendall(b"pong\n" * lines)
        elif kind == "greet":
            conn.sendall(b"hello\n")
        elif kind == "halfclose":
            count = 0
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                count += len(chunk)
            conn.sendall(b"got %d bytes\n" % count)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def accept_loop(kind, s):
    while True:
        try:
            conn, _ = s.accept()
        except OSError:
            continue
        threading.Thread(target=serve_conn, args=(kind, conn), daemon=True).start()


def udp_loop(s):
    while True:
        try:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
        except OSError:
            pass


def main():
    specs = sys.argv[1:] or ["http:80", "echo:7", "uecho:7"]
    threads = []
    for spec in specs:
        kind, _, port = spec.partition(":")
        port = int(port)
        if kind == "uecho":
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
            threads.append(threading.Thread(target=udp_loop, args=(s,), daemon=True))
        elif kind in TCP_KINDS:
            threads.append(threading.Thread(target=accept_loop, args=(kind, tcp_socket(port)), daemon=True))
        else:
            sys.exit("unknown listener kind: " + spec)
    for t in threads:
        t.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
