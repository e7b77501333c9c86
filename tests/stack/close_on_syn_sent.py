# Kernel side of close_on_syn_sent.tcs: a non-blocking connect(), close() in SYN_SENT.
from pd import *

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setblocking(False)
check("connect errno", s.connect_ex((CLIENT, 8011)), errno.EINPROGRESS)
s.close()
signal_script(9011)  # close() is done
ok()
