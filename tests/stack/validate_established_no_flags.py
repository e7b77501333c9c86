# Kernel side of validate_established_no_flags.tcs: accept(), read() = 1000, which
# must be the ACKed segment's bytes ("y"), not the flagless one's ("n").
from pd import *

conn = listen_accept(8024)
check("read", read_exactly(conn, 1000), b"y" * 1000)
ok()
