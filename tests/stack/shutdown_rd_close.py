# Kernel side of shutdown_rd_close.tcs.
from pd import *

conn = listen_accept(8003)
conn.shutdown(socket.SHUT_RD)
check("read", conn.recv(1000), b"")
conn.send(b"y" * 1000)  # writing and sending still work
wait_all_acked(conn)
conn.close()
ok()
