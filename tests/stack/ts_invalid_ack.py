# Kernel side of ts_invalid_ack.tcs: accept(), read() the 1000 bytes.
from pd import *

conn = listen_accept(8023)
read_exactly(conn, 1000)
ok()
