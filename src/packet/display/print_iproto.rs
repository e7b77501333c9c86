//! IP protocols other than TCP, UDP and ICMP, as tcpdump 4.99 prints them without -v:
//! SCTP chunks (print-sctp.c) and DCCP packet types (print-dccp.c) with addresses and
//! ports, and the first part of PIM, OSPF, VRRP, IGMP and EIGRP (the addresses come
//! from `ip_print`). GRE and the other tunnels are in [`super::print_tunnel`].

use std::fmt::Write as _;

use super::nd::{IpRef, Jump, Nd, R};

fn sctp_chunk_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "DATA",
        1 => "INIT",
        2 => "INIT ACK",
        3 => "SACK",
        4 => "HB REQ",
        5 => "HB ACK",
        6 => "ABORT",
        7 => "SHUTDOWN",
        8 => "SHUTDOWN ACK",
        9 => "OP ERR",
        10 => "COOKIE ECHO",
        11 => "COOKIE ACK",
        12 => "ECN ECHO",
        13 => "ECN CWR",
        14 => "SHUTDOWN COMPLETE",
        15 => "AUTH",
        64 => "I-DATA",
        128 => "ASCONF-ACK",
        130 => "RE-CONFIG",
        132 => "PAD",
        192 => "FOR TSN",
        193 => "ASCONF",
        194 => "I-FORWARD-FSN",
        _ => return None,
    })
}

fn sctp_ppid(p: u32) -> String {
    let name = match p {
        1 => "ISDN Q.921",
        2 => "M2UA",
        3 => "M3UA",
        4 => "SUA",
        5 => "M2PA",
        6 => "V5.2",
        7 => "H.248",
        8 => "BICC",
        9 => "TALI",
        10 => "DUA",
        11 => "ASAP",
        12 => "ENRP",
        13 => "H.323",
        14 => "Q.IPC",
        15 => "SIMCO",
        16 => "DDPSC",
        17 => "DDPSSC",
        18 => "S1AP",
        19 => "RUA",
        20 => "HNBAP",
        21 => "ForCES HP",
        22 => "ForCES MP",
        23 => "ForCES LP",
        24 => "SBc-AP",
        25 => "NBAP",
        27 => "X2AP",
        _ => return format!("0x{p:x}"),
    };
    name.to_string()
}

/// `src.port > dst.port: ` from the enclosing IP header.
fn ports_line(nd: &mut Nd, ip: IpRef, sport: u16, dport: u16) -> R {
    let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
    let _ = write!(nd.out, "{s}.{sport} > {d}.{dport}: ");
    Ok(())
}

/// SCTP: the common header, then each chunk's type and its first fields.
pub(super) fn sctp_print(nd: &mut Nd, bp: usize, length: usize, ip: IpRef) -> R {
    nd.proto = "sctp";
    if length < 12 {
        let _ = write!(nd.out, " [length {length} < 12] (invalid)");
        return Ok(());
    }
    if !nd.ttest(bp, 12) {
        return Err(Jump);
    }
    let (sport, dport) = (nd.be16(bp)?, nd.be16(bp + 2)?);
    ports_line(nd, ip, sport, dport)?;
    nd.out.pop();
    nd.p(" sctp");
    let mut at = bp + 12;
    let mut remaining = length - 12;
    let mut sep = " (";
    let mut n = 0u32;
    while remaining != 0 {
        n += 1;
        if remaining < 4 {
            let _ = write!(
                nd.out,
                "{sep}{n}) [chunk descriptor cut off at end of packet]"
            );
            break;
        }
        if !nd.ttest(at, 4) {
            return Err(Jump);
        }
        let clen = usize::from(nd.be16(at + 2)?);
        if clen < 4 {
            let _ = write!(
                nd.out,
                "{sep}{n}) [Bad chunk length {clen}, < size of chunk descriptor]"
            );
            break;
        }
        let align = (4 - clen % 4) % 4;
        if remaining < align {
            let _ = write!(
                nd.out,
                "{sep}{n}) [Bad chunk length {clen}, > remaining data in packet]"
            );
            break;
        }
        if !nd.ttest(at, clen) {
            return Err(Jump);
        }
        let (id, flg) = (nd.u8(at)?, nd.u8(at + 1)?);
        let body = at + 4;
        let mut crem = clen - 4;
        let _ = write!(nd.out, "{sep}{n}) ");
        match sctp_chunk_name(id) {
            Some(name) => {
                let _ = write!(nd.out, "[{name}] ");
            }
            None => {
                let _ = write!(nd.out, "[Unknown chunk type: 0x{id:x}] ");
            }
        }
        match id {
            0 => {
                for (bit, w) in [(4, "(U)"), (2, "(B)"), (1, "(E)")] {
                    if flg & bit != 0 {
                        nd.p(w);
                    }
                }
                if flg & 7 != 0 {
                    nd.p(" ");
                }
                if crem < 12 {
                    let _ = write!(nd.out, " [chunk length {crem} < 12] (invalid)");
                    return Ok(());
                }
                let ppid = nd.be32(body + 8)?;
                let _ = write!(
                    nd.out,
                    "[TSN: {}] [SID: {}] [SSEQ {}] [PPID {}] ",
                    nd.be32(body)?,
                    nd.be16(body + 4)?,
                    nd.be16(body + 6)?,
                    sctp_ppid(ppid)
                );
                crem -= 12;
                if crem == 0 {
                    nd.p(" [chunk length 0 == 0] (invalid)");
                    return Ok(());
                }
            }
            1 | 2 => {
                if crem < 16 {
                    let _ = write!(nd.out, " [chunk length {crem} < 16] (invalid)");
                    return Ok(());
                }
                let _ = write!(
                    nd.out,
                    "[init tag: {}] [rwnd: {}] [OS: {}] [MIS: {}] [init TSN: {}] ",
                    nd.be32(body)?,
                    nd.be32(body + 4)?,
                    nd.be16(body + 8)?,
                    nd.be16(body + 10)?,
                    nd.be32(body + 12)?
                );
            }
            3 => {
                if crem < 12 {
                    let _ = write!(nd.out, " [chunk length {crem} < 12] (invalid)");
                    return Ok(());
                }
                let _ = write!(
                    nd.out,
                    "[cum ack {}] [a_rwnd {}] [#gap acks {}] [#dup tsns {}] ",
                    nd.be32(body)?,
                    nd.be32(body + 4)?,
                    nd.be16(body + 8)?,
                    nd.be16(body + 10)?
                );
            }
            _ => {}
        }
        if align != 0 && !nd.ttest(at + clen, align) {
            return Err(Jump);
        }
        at += clen + align;
        remaining = remaining.saturating_sub(clen + align);
        sep = ", (";
    }
    Ok(())
}

fn dccp_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "DCCP-Request",
        1 => "DCCP-Response",
        2 => "DCCP-Data",
        3 => "DCCP-Ack",
        4 => "DCCP-DataAck",
        5 => "DCCP-CloseReq",
        6 => "DCCP-Close",
        7 => "DCCP-Reset",
        8 => "DCCP-Sync",
        9 => "DCCP-SyncAck",
        _ => return None,
    })
}

/// DCCP: ports, the packet type, its service code or reset code, the acknowledgement.
pub(super) fn dccp_print(nd: &mut Nd, bp: usize, length: usize, ip: IpRef) -> R {
    nd.proto = "dccp";
    if bp + 12 > nd.snapend {
        return Err(Jump);
    }
    if length < 12 {
        let _ = write!(nd.out, "truncated-dccp - {} bytes missing!", 12 - length);
        return Ok(());
    }
    let xtr = nd.u8(bp + 8)?;
    let fixed = if xtr & 1 != 0 { 16 } else { 12 };
    if length < fixed {
        let _ = write!(nd.out, "truncated-dccp - {} bytes missing!", fixed - length);
        return Ok(());
    }
    if !nd.ttest(bp, fixed) {
        return Err(Jump);
    }
    let (sport, dport) = (nd.be16(bp)?, nd.be16(bp + 2)?);
    ports_line(nd, ip, sport, dport)?;
    nd.p("DCCP ");
    let ty = (xtr >> 1) & 0xf;
    let name = dccp_type_name(ty).unwrap_or("");
    let extra = match ty {
        0 => 4,
        1 | 7 => 12,
        2 => 0,
        _ if ty <= 9 => 8,
        _ => 0,
    };
    if ty <= 9 && ty != 2 && length < fixed + extra {
        let _ = write!(
            nd.out,
            "truncated-{name} - {} bytes missing!",
            fixed + extra - length
        );
        return Ok(());
    }
    match ty {
        0 | 1 => {
            let at = bp + fixed + if ty == 1 { 8 } else { 0 };
            if !nd.ttest(bp + fixed, extra) {
                return Err(Jump);
            }
            let _ = write!(nd.out, "{name} (service={}) ", nd.be32(at)?);
        }
        7 => {
            if !nd.ttest(bp + fixed, extra) {
                return Err(Jump);
            }
            let code = nd.u8(bp + fixed + 8)?;
            let cname = [
                "unspecified",
                "closed",
                "aborted",
                "no_connection",
                "packet_error",
                "option_error",
                "mandatory_error",
                "connection_refused",
                "bad_service_code",
                "too_busy",
                "bad_init_cookie",
                "aggression_penalty",
            ]
            .get(usize::from(code))
            .copied()
            .unwrap_or("invalid");
            let _ = write!(nd.out, "{name} (code={cname}) ");
        }
        _ if ty <= 9 => {
            let _ = write!(nd.out, "{name} ");
        }
        _ => {
            let _ = write!(nd.out, "unknown-type-{ty} ");
        }
    }
    if ty != 0 && ty != 2 {
        let ack = bp + fixed;
        let n = if xtr & 1 != 0 {
            u64::from(nd.be16(ack + 2)?) << 32 | u64::from(nd.be32(ack + 4)?)
        } else {
            u64::from(nd.u8(ack + 1)?) << 16 | u64::from(nd.be16(ack + 2)?)
        };
        let _ = write!(nd.out, "(ack={n}) ");
    }
    Ok(())
}

/// PIM version 2 (version 1 rides in IGMP): type and length.
pub(super) fn pim_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "pim";
    let tv = nd.u8(bp)?;
    let ver = tv >> 4;
    let ty = tv & 0xf;
    match ver {
        2 => {
            let name = match ty {
                0 => "Hello",
                1 => "Register",
                2 => "Register Stop",
                3 => "Join / Prune",
                4 => "Bootstrap",
                5 => "Assert",
                6 => "Graft",
                7 => "Graft Acknowledgement",
                8 => "Candidate RP Advertisement",
                9 => "Prune Refresh",
                _ => "Unknown Type",
            };
            let _ = write!(nd.out, "PIMv2, {name}, length {length}");
        }
        _ => {
            let _ = write!(nd.out, "PIMv{ver}, length {length}");
        }
    }
    Ok(())
}

/// OSPFv2 and OSPFv3: version, packet type, length.
pub(super) fn ospf_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ospf2";
    let ver = nd.u8(bp)?;
    let ty = nd.u8(bp + 1)?;
    let name = match ty {
        1 => "Hello".to_string(),
        2 => "Database Description".to_string(),
        3 => "LS-Request".to_string(),
        4 => "LS-Update".to_string(),
        5 => "LS-Ack".to_string(),
        _ => format!("unknown packet type ({ty})"),
    };
    let _ = write!(nd.out, "OSPFv{ver}, {name}, length {length}");
    Ok(())
}

/// VRRP version 2 and 3 advertisements. `ttl`: the enclosing header's TTL / hop limit.
pub(super) fn vrrp_print(nd: &mut Nd, bp: usize, length: usize, ttl: u8) -> R {
    nd.proto = "vrrp";
    let vt = nd.u8(bp)?;
    let (ver, ty) = (vt >> 4, vt & 0xf);
    if ty == 1 {
        let _ = write!(nd.out, "VRRPv{ver}, Advertisement");
    } else {
        let _ = write!(nd.out, "VRRPv{ver}, unknown type ({ty})");
    }
    if ttl != 255 {
        let _ = write!(nd.out, ", (ttl {ttl})");
    }
    if !(2..=3).contains(&ver) || ty != 1 {
        return Ok(());
    }
    let (vrid, prio) = (nd.u8(bp + 1)?, nd.u8(bp + 2)?);
    let _ = write!(nd.out, ", vrid {vrid}, prio {prio}");
    if ver == 2 {
        let auth = nd.u8(bp + 4)?;
        let aname = match auth {
            0 => "none".to_string(),
            1 => "simple".to_string(),
            2 => "ah".to_string(),
            a => format!("#{a}"),
        };
        let intvl = nd.u8(bp + 5)?;
        let _ = write!(
            nd.out,
            ", authtype {aname}, intvl {intvl}s, length {length}"
        );
    } else {
        let intvl = u16::from(nd.u8(bp + 4)? & 0x0f) << 8 | u16::from(nd.u8(bp + 5)?);
        let _ = write!(nd.out, ", intvl {intvl}cs, length {length}");
    }
    Ok(())
}

/// IGMP v1, v2 and v3.
pub(super) fn igmp_print(nd: &mut Nd, bp: usize, len: usize) -> R {
    nd.proto = "igmp";
    let ty = nd.u8(bp)?;
    match ty {
        0x11 => {
            nd.p("igmp query");
            if len >= 12 {
                nd.p(" v3");
                let mrc = nd.u8(bp + 1)?;
                let mrt: u32 = if mrc < 128 {
                    u32::from(mrc)
                } else {
                    (u32::from(mrc & 0x0f) | 0x10) << (((mrc & 0x70) >> 4) + 3)
                };
                if mrc != 100 {
                    nd.p(" [max resp time ");
                    if mrt < 600 {
                        let _ = write!(nd.out, "{:.1}s", f64::from(mrt) * 0.1);
                    } else {
                        nd.p(&relts(mrt / 10));
                    }
                    nd.p("]");
                }
                if nd.be32(bp + 4)? == 0 {
                    return Ok(());
                }
                let g = nd.ip4(bp + 4)?;
                let _ = write!(nd.out, " [gaddr {g}");
                let nsrcs = usize::from(nd.be16(bp + 10)?);
                if nsrcs > 0 {
                    if len < 12 + (nsrcs << 2) {
                        let _ = write!(nd.out, " [invalid number of sources {nsrcs}]");
                    } else {
                        let _ = write!(nd.out, ", {nsrcs} source(s)");
                    }
                }
                nd.p("]");
            } else {
                let mrc = nd.u8(bp + 1)?;
                if mrc != 0 {
                    nd.p(" v2");
                    if mrc != 100 {
                        let _ = write!(nd.out, " [max resp time {mrc}]");
                    }
                } else {
                    nd.p(" v1");
                }
                if nd.be32(bp + 4)? != 0 {
                    let g = nd.ip4(bp + 4)?;
                    let _ = write!(nd.out, " [gaddr {g}]");
                }
                if len != 8 {
                    let _ = write!(nd.out, " [len {len}]");
                }
            }
        }
        0x12 => {
            let g = nd.ip4(bp + 4)?;
            let _ = write!(nd.out, "igmp v1 report {g}");
            if len != 8 {
                let _ = write!(nd.out, " [len {len}]");
            }
        }
        0x16 => {
            let g = nd.ip4(bp + 4)?;
            let _ = write!(nd.out, "igmp v2 report {g}");
        }
        0x17 => {
            let g = nd.ip4(bp + 4)?;
            let _ = write!(nd.out, "igmp leave {g}");
        }
        0x22 => {
            nd.p("igmp v3 report");
            if len < 8 || len & 3 != 0 {
                let _ = write!(nd.out, " [invalid len {len}]");
                return Ok(());
            }
            let n = nd.be16(bp + 6)?;
            let _ = write!(nd.out, ", {n} group record(s)");
        }
        _ => {
            let _ = write!(nd.out, "igmp-{ty}");
        }
    }
    Ok(())
}

/// tcpdump's `unsigned_relts_print`: seconds as `1y2w3d4h5m6s`.
fn relts(mut secs: u32) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut s = String::new();
    for (unit, name) in [
        (31_536_000, "y"),
        (604_800, "w"),
        (86_400, "d"),
        (3_600, "h"),
        (60, "m"),
        (1, "s"),
    ] {
        if secs >= unit {
            let _ = write!(s, "{}{name}", secs / unit);
            secs %= unit;
        }
    }
    s
}

/// EIGRP without -v: the opcode and the length.
pub(super) fn eigrp_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "eigrp";
    let op = nd.u8(bp + 1)?;
    let name = match op {
        1 => "Update".to_string(),
        3 => "Query".to_string(),
        4 => "Reply".to_string(),
        5 => "Hello".to_string(),
        6 => "IPX SAP".to_string(),
        7 => "Probe".to_string(),
        _ => format!("unknown ({op})"),
    };
    let _ = write!(nd.out, "EIGRP {name}, length: {length}");
    Ok(())
}
