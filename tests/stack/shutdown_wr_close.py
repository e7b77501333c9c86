# Kernel side of shutdown_wr_close.tcs.
from pd import *

conn = listen_accept(8002)
conn.shutdown(socket.SHUT_WR)
wait_fin_acked(conn)  # the client ACKed our FIN
write_fails(conn, errno.EPIPE)
read_exactly(conn, 1000)  # receiving and reading still work
conn.close()
ok()
