# Kernel side of close_local_close_then_remote_fin.tcs: connect(), write(1000),
# close() once the data is ACKed.
from pd import *

s = connect(8010)
check("write", s.send(b"y" * 1000), 1000)
wait_all_acked(s)
s.close()
ok()
