# Kernel side of disorder_fin_in_fin_wait.tcs: accept(), shutdown(SHUT_WR), read()
# until the client's FIN.
from pd import *

conn = listen_accept(8041)
conn.shutdown(socket.SHUT_WR)
check("read", conn.recv(1000), b"")
ok()
