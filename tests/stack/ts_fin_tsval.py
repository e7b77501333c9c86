# Kernel side of ts_fin_tsval.tcs: accept(), then close() 1 s later.
from pd import *

conn = listen_accept(8021)
time.sleep(1)  # packetdrill: +1 close(4)
conn.close()
ok()
