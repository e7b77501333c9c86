# Kernel side of close_no_rst.tcs: accept(), read() = 1000, read() = 0 after the
# client's FIN (the retransmitted bytes are not queued again), close().
from pd import *

conn = listen_accept(8040)
read_exactly(conn, 1000)
check("read after FIN", conn.recv(1000), b"")
conn.close()
ok()
