# Kernel side of fr_4pkt.tcs: accept(), write(5840), close() once all of it
# is ACKed.
from pd import *

conn = listen_accept(8031)
check("write", conn.send(b"d" * 5840), 5840)
wait_all_acked(conn)
conn.close()
ok()
