# Kernel side of shutdown_rd_wr_close.tcs.
from pd import *

conn = listen_accept(8005)
conn.shutdown(socket.SHUT_RD)
check("read", conn.recv(1000), b"")
signal_script(9005)  # now the client may send
# Linux still ACKs and queues data after SHUT_RD, and read() returns it.
wait_inq(conn, 1000)
check("read", len(conn.recv(1000)), 1000)
conn.send(b"y" * 1000)  # writing and sending still work
wait_all_acked(conn)
conn.shutdown(socket.SHUT_WR)
wait_fin_acked(conn)
write_fails(conn, errno.EPIPE)
conn.close()
ok()
