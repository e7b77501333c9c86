#!/usr/bin/python3
"""Writes a large Ethernet capture for scripts/bench_decode.sh: 120 distinct frames made
with scapy (TCP data and ACKs with timestamps, SYNs with options, DNS, ICMP, IPv6, ARP,
GRE, VXLAN), repeated to N records (default 1,200,000).

    /usr/bin/python3 scripts/gen_decode_bench.py [N] [FILE]
"""
import sys
from scapy.all import *
from scapy.layers.vxlan import VXLAN
import struct, random
S,D="198.18.0.1","198.18.0.2"; S6,D6="2001:db8:198:18::1","2001:db8:198:18::2"
E=lambda: Ether(src="02:00:c6:12:00:01",dst="02:00:c6:12:00:02")
base=[]
rng=random.Random(1)
for i in range(40):
    base.append(E()/IP(src=S,dst=D,id=i)/TCP(sport=40000+i,dport=443,flags="PA",seq=1000*i,ack=77,options=[("NOP",None),("NOP",None),("Timestamp",(i,i+1))])/(b"x"*rng.randrange(0,1400)))
    base.append(E()/IP(src=D,dst=S,id=i)/TCP(sport=443,dport=40000+i,flags="A",seq=77,ack=1000*i,options=[("NOP",None),("NOP",None),("Timestamp",(i,i+1))]))
for i in range(5):
    base.append(E()/IP(src=S,dst=D)/TCP(sport=40000,dport=80,flags="S",seq=i,options=[("MSS",1460),("SAckOK",b""),("Timestamp",(1,0)),("NOP",None),("WScale",7)]))
    base.append(E()/IP(src=S,dst=D)/UDP(sport=40000,dport=53)/DNS(id=i,rd=1,qd=DNSQR(qname="example.com")))
    base.append(E()/IP(src=S,dst=D)/ICMP(id=i,seq=i)/b"ping")
    base.append(E()/IPv6(src=S6,dst=D6)/TCP(sport=40000,dport=443,flags="PA",seq=i,ack=1)/(b"y"*100))
    base.append(E()/IPv6(src=S6,dst=D6)/UDP(sport=5000,dport=5001)/(b"z"*50))
    base.append(E()/ARP(hwsrc="02:00:c6:12:00:01",psrc=S,pdst=D))
    base.append(E()/IP(src=S,dst=D)/GRE()/IP(src="10.0.0.1",dst="10.0.0.2")/ICMP())
    base.append(E()/IP(src=S,dst=D)/UDP(sport=40000,dport=4789)/VXLAN(vni=5)/E()/IP(src="10.0.0.1",dst="10.0.0.2")/TCP(flags="S"))
frames=[bytes(p) for p in base]
N=int(sys.argv[1]) if len(sys.argv) > 1 else 1200000
path=sys.argv[2] if len(sys.argv) > 2 else "decode_bench.pcap"
with open(path,"wb") as fh:
    fh.write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,262144,1))
    for k in range(N):
        f=frames[k%len(frames)]
        fh.write(struct.pack("<IIII",1700000000+k//1000,(k%1000)*1000,len(f),len(f))+f)
print(len(frames),"distinct,",N,"packets")
