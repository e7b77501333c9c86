# Kernel side of shutdown_rdwr_close.tcs.
from pd import *

conn = listen_accept(8004)
conn.shutdown(socket.SHUT_RDWR)
wait_fin_acked(conn)  # the client ACKed our FIN
check("read", conn.recv(1000), b"")
write_fails(conn, errno.EPIPE)
conn.close()
ok()
