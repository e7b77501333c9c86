#!/usr/bin/env python3
"""Real kernel listeners for the tcpcraft test bed and lab.

Runs inside the server network namespace. Every argument is KIND:PORT:
  http:80   TCP, answers any request with a short HTTP/1.0 response, then closes
  echo:7    TCP, echoes every byte back until the peer closes
  uecho:7   UDP, echoes every datagram back
  open:N    TCP, accepts and closes (an open port and nothing more)
Sockets are IPv6 with V6ONLY off, so they answer IPv4 and IPv6 alike.
Prints "ready" on stdout once every socket listens, so callers can wait for it.
"""
import socket
import sys
import threading

HTTP = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
        b"Connection: close\r\n\r\nhello from tcpcraft\n")


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
        elif kind == "echo":
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
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
        elif kind in ("http", "echo", "open"):
            threads.append(threading.Thread(target=accept_loop, args=(kind, tcp_socket(port)), daemon=True))
        else:
            sys.exit("unknown listener kind: " + spec)
    for t in threads:
        t.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
