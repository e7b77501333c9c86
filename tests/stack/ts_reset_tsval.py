# Kernel side of ts_reset_tsval.tcs: accept(); once 1000 bytes wait unread, 1 s
# later close() (unread data: RST instead of FIN).
from pd import *

conn = listen_accept(8022)
wait_inq(conn, 1000)
time.sleep(1)  # packetdrill: +1 close(4)
conn.close()
ok()
