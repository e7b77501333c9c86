# Kernel side of close_remote_fin_then_close.tcs: accept, read() until the client's
# FIN (= 0), close().
from pd import *

conn = listen_accept(8001)
check("read", conn.recv(1000), b"")
conn.close()
ok()
