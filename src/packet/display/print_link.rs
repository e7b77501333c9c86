//! Link layers other than Ethernet and Linux cooked v1, as tcpdump 4.99 prints them
//! (its print-null.c, print-ppp.c, print-chdlc.c, print-sll.c, print-ipnet.c,
//! print-ipoib.c): what carries IP is decoded, anything else gets tcpdump's one line.
//! 802.11 with radiotap is in [`super::print_wifi`]. The entry point for any link type
//! is [`dlt_print`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use super::ethertype::ethertype_name;
use super::nd::{mac, Jump, Nd, R};
use super::print_ether::{ether_print, link_payload, sll_dir, sll_print, sll_protocol};
use super::print_ip::{ip_print, ipn_print};
use super::print_ip6::ip6_print;
use super::print_wifi::{ip_offset as wifi_ip_offset, radiotap_print};

/// pcap link-layer header types (tcpdump.org/linktypes.html) the printer knows.
pub mod dlt {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    pub const RAW_OLD: u32 = 12;
    pub const RAW_OLD2: u32 = 14;
    pub const PPP_SERIAL: u32 = 50;
    pub const RAW: u32 = 101;
    pub const C_HDLC: u32 = 104;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IEEE802_11_RADIO: u32 = 127;
    pub const IPNET: u32 = 226;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const IPOIB: u32 = 242;
    pub const LINUX_SLL2: u32 = 276;
}

/// Whether the printer knows a pcap link type (others get one plain line per packet).
pub fn dlt_known(linktype: u32) -> bool {
    matches!(
        linktype,
        dlt::NULL
            | dlt::ETHERNET
            | dlt::PPP
            | dlt::RAW_OLD
            | dlt::RAW_OLD2
            | dlt::PPP_SERIAL
            | dlt::RAW
            | dlt::C_HDLC
            | dlt::LOOP
            | dlt::LINUX_SLL
            | dlt::IEEE802_11_RADIO
            | dlt::IPNET
            | dlt::IPV4
            | dlt::IPV6
            | dlt::IPOIB
            | dlt::LINUX_SLL2
    )
}

/// The printer for a pcap link type: what `tcpdump -r` runs on each record.
pub(super) fn dlt_print(nd: &mut Nd, linktype: u32, length: usize) -> R {
    match linktype {
        dlt::ETHERNET => ether_print(nd, length),
        dlt::LINUX_SLL => sll_print(nd, length),
        // tcpdump reads DLT_IPV4 and DLT_IPV6 by the version nibble too.
        dlt::RAW | dlt::RAW_OLD | dlt::RAW_OLD2 | dlt::IPV4 | dlt::IPV6 => ipn_print(nd, 0, length),
        dlt::NULL => null_print(nd, length, false),
        dlt::LOOP => null_print(nd, length, true),
        dlt::PPP => {
            nd.proto = "ppp";
            if nd.ttest(0, 4) {
                ppp_print(nd, 0, length)
            } else {
                Err(Jump)
            }
        }
        dlt::PPP_SERIAL => ppp_hdlc_if_print(nd, length),
        dlt::C_HDLC => {
            nd.proto = "chdlc";
            chdlc_print(nd, 0, length)
        }
        dlt::LINUX_SLL2 => sll2_print(nd, length),
        dlt::IPNET => ipnet_print(nd, length),
        dlt::IPOIB => ipoib_print(nd, length),
        dlt::IEEE802_11_RADIO => radiotap_print(nd, length),
        other => {
            let _ = write!(nd.out, "link type {other} (not decoded), length {length}");
            Ok(())
        }
    }
}

/// Where the IP header starts in a frame of a link type that carries IP there, for the
/// field-tree and JSON views of link types the packet model has no layer for.
pub fn ip_offset(bytes: &[u8], linktype: u32) -> Option<usize> {
    let be16 = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let at = match linktype {
        dlt::NULL | dlt::LOOP => 4,
        dlt::PPP | dlt::PPP_SERIAL => {
            let at = if be16(0)? == 0xff03 { 2 } else { 0 };
            match bytes.get(at)? {
                b if b & 1 == 1 => at + 1,
                _ if matches!(be16(at)?, 0x0021 | 0x0057) => at + 2,
                _ if matches!(be16(at)?, 0x0800 | 0x86dd) && linktype == dlt::PPP_SERIAL => at + 2,
                _ => return None,
            }
        }
        dlt::C_HDLC => 4,
        dlt::LINUX_SLL2 => 20,
        dlt::IPNET => 24,
        dlt::IPOIB => 44,
        dlt::IEEE802_11_RADIO => wifi_ip_offset(bytes)?,
        _ => return None,
    };
    match bytes.get(at)? >> 4 {
        4 | 6 => Some(at),
        _ => None,
    }
}

/// BSD address families in a NULL/LOOP header (tcpdump's `bsd_af_values`).
fn bsd_af_name(af: u32) -> &'static str {
    match af {
        2 => "IPv4",
        7 => "ISO",
        16 => "Appletalk",
        23 => "IPX",
        24 | 28 | 30 => "IPv6",
        _ => "Unknown",
    }
}

/// DLT_NULL (host byte order family, read either way round) and DLT_LOOP (network order).
fn null_print(nd: &mut Nd, length: usize, network_order: bool) -> R {
    nd.proto = "null";
    let s = nd.slice(0, 4).map_err(|_| Jump)?;
    let mut af = if network_order {
        u32::from_be_bytes([s[0], s[1], s[2], s[3]])
    } else {
        u32::from_le_bytes([s[0], s[1], s[2], s[3]])
    };
    if !network_order && af & 0xffff_0000 != 0 {
        af = af.swap_bytes();
    }
    match af {
        2 => ip_print(nd, 4, length - 4),
        24 | 28 | 30 => ip6_print(nd, 4, length - 4),
        _ => {
            let _ = write!(nd.out, "AF {} ({af}), length {length}: ", bsd_af_name(af));
            Ok(())
        }
    }
}

/// PPP protocol numbers tcpdump names (its `ppptype2str`).
fn ppp_proto_name(p: u16) -> Option<&'static str> {
    Some(match p {
        0x0021 => "IP",
        0x0029 => "Appletalk",
        0x002b => "IPX",
        0x003d => "ML",
        0x0057 => "IP6",
        0x00fd => "CCP",
        0x0281 => "MPLS",
        0x8021 => "IPCP",
        0x8029 => "ATCP",
        0x802b => "IPXCP",
        0x8057 => "IP6CP",
        0x80fd => "CCP",
        0x8281 => "MPLSCP",
        0xc021 => "LCP",
        0xc023 => "PAP",
        0xc025 => "LQM",
        0xc223 => "CHAP",
        0xc029 => "CBCP",
        0xc02b => "BACP",
        0xc02d => "BAP",
        _ => return None,
    })
}

/// `ppp_print`: optional address/control (ff 03), a protocol field of one or two bytes.
pub(super) fn ppp_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    let mut at = bp;
    let mut length = length;
    if length >= 2 && nd.be16(at)? == 0xff03 {
        at += 2;
        length -= 2;
    }
    if length < 2 {
        return Err(Jump);
    }
    let full = length;
    let proto = if nd.u8(at)? & 1 == 1 {
        at += 1;
        length -= 1;
        u16::from(nd.u8(at - 1)?)
    } else {
        at += 2;
        length -= 2;
        nd.be16(at - 2)?
    };
    handle_ppp(nd, proto, at, length, full)
}

/// `full`: the length with the protocol field, which the control protocols print.
fn handle_ppp(nd: &mut Nd, proto: u16, at: usize, length: usize, full: usize) -> R {
    match proto {
        0x0021 | 0x0800 => ip_print(nd, at, length),
        0x0057 | 0x86dd => ip6_print(nd, at, length),
        0xc021 | 0x8021 | 0x8057 | 0x80fd | 0x00fd | 0x8281 => {
            ppp_ctrl_print(nd, proto, at, length, full)
        }
        _ => {
            let _ = write!(nd.out, "unknown PPP protocol (0x{proto:04x}) ");
            Ok(())
        }
    }
}

/// LCP, IPCP, IP6CP, CCP, MPLSCP headers (`handle_ctrl_proto` without -v).
fn ppp_ctrl_print(nd: &mut Nd, proto: u16, at: usize, length: usize, full: usize) -> R {
    let name = ppp_proto_name(proto).unwrap_or("Unknown");
    if length < 4 || !nd.ttest(at, 4) {
        // tcpdump's marker here names the control protocol, after the comma.
        let _ = write!(nd.out, "{name}, [|{name}]");
        return Ok(());
    }
    let code = nd.u8(at)?;
    let codes = [
        "Vend-Ext",
        "Conf-Request",
        "Conf-Ack",
        "Conf-Nack",
        "Conf-Reject",
        "Term-Request",
        "Term-Ack",
        "Code-Reject",
        "Prot-Reject",
        "Echo-Request",
        "Echo-Reply",
        "Disc-Req",
        "Ident",
        "Time-Remain",
        "Reset-Req",
        "Reset-Ack",
    ];
    let id = nd.u8(at + 1)?;
    match codes.get(usize::from(code)) {
        Some(c) => {
            let _ = write!(nd.out, "{name}, {c} (0x{code:02x}), id {id}, length {full}");
        }
        None => {
            let _ = write!(
                nd.out,
                "{name}, Unknown Opcode (0x{code:02x}), id {id}, length {full}"
            );
        }
    }
    let _ = length;
    Ok(())
}

/// DLT_PPP_SERIAL: PPP in HDLC-like framing, or Cisco HDLC.
fn ppp_hdlc_if_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "ppp_hdlc";
    if !nd.ttest(0, 2) {
        return Err(Jump);
    }
    match nd.u8(0)? {
        0xff => {
            if !nd.ttest(0, 4) {
                return Err(Jump);
            }
            let proto = nd.be16(2)?;
            let name = match ppp_proto_name(proto) {
                Some(n) => n.to_string(),
                None => format!("unknown PPP protocol (0x{proto:04x})"),
            };
            let _ = write!(nd.out, "{name}: ");
            nd.proto = "ppp";
            let length = length.saturating_sub(2);
            handle_ppp(nd, proto, 4, length.saturating_sub(2), length)
        }
        0x0f | 0x8f => {
            nd.proto = "chdlc";
            chdlc_print(nd, 0, length)
        }
        _ => {
            if !nd.ttest(0, 4) {
                return Err(Jump);
            }
            let (a, c) = (nd.u8(2)?, nd.u8(3)?);
            let _ = write!(nd.out, "unknown addr {a:02x}; ctrl {c:02x}");
            Ok(())
        }
    }
}

/// Cisco HDLC: address, control, an ethertype.
fn chdlc_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    if !nd.ttest(bp, 4) {
        return Err(Jump);
    }
    let proto = nd.be16(bp + 2)?;
    let (at, length) = (bp + 4, length.saturating_sub(4));
    match proto {
        0x0800 => ip_print(nd, at, length),
        0x86dd => ip6_print(nd, at, length),
        0x8035 => slarp_print(nd, at, length),
        _ => {
            let _ = write!(nd.out, "unknown CHDLC protocol (0x{proto:04x})");
            Ok(())
        }
    }
}

/// Cisco SLARP: address request and reply, keepalives.
fn slarp_print(nd: &mut Nd, at: usize, length: usize) -> R {
    nd.proto = "chdlc_slarp";
    let _ = write!(nd.out, "SLARP (length: {length}), ");
    let code = nd.be32(at)?;
    match code {
        0 => nd.p("request"),
        1 => {
            let (a, m) = (nd.ip4(at + 4)?, nd.ip4(at + 8)?);
            let _ = write!(nd.out, "reply {a}/{m}");
        }
        2 => {
            let (mine, yours) = (nd.be32(at + 4)?, nd.be32(at + 8)?);
            let rel = nd.be16(at + 12)?;
            let _ = write!(
                nd.out,
                "keepalive: mineseen=0x{mine:08x}, yourseen=0x{yours:08x}, reliability=0x{rel:04x}"
            );
            let t = nd.be32(at + 14)? / 1000;
            let _ = write!(
                nd.out,
                ", link uptime={}d{}h{}m{}s",
                t / 86400,
                (t / 3600) % 24,
                (t / 60) % 60,
                t % 60
            );
        }
        c => {
            let _ = write!(nd.out, "0x{c:02x} unknown");
        }
    }
    Ok(())
}

/// Interface names by index on this host: tcpdump prints them for Linux cooked v2
/// captures (a name the host does not have prints `?`).
fn if_name(index: u32) -> Option<&'static str> {
    static NAMES: OnceLock<HashMap<u32, String>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut m = HashMap::new();
            if let Ok(dir) = std::fs::read_dir("/sys/class/net") {
                for e in dir.flatten() {
                    let idx = std::fs::read_to_string(e.path().join("ifindex"))
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    if let (Some(i), Some(n)) = (idx, e.file_name().to_str()) {
                        m.insert(i, n.to_string());
                    }
                }
            }
            m
        })
        .get(&index)
        .map(String::as_str)
}

/// Linux cooked capture v2: protocol, interface index, address type, packet type.
fn sll2_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "sll2";
    if !nd.ttest(0, 20) {
        return Err(Jump);
    }
    let ifindex = nd.be32(4)?;
    let name = if_name(ifindex).unwrap_or("?");
    let pkttype = nd.u8(10)?;
    let _ = write!(nd.out, "{name:<5} {:<3} ", sll_dir(pkttype));
    let et = nd.be16(0)?;
    if !link_payload(nd, et, 20, length - 20)? {
        let _ = write!(nd.out, "ifindex {ifindex} ");
        if nd.u8(11)? == 6 {
            let m = mac(nd.slice(12, 6)?);
            let _ = write!(nd.out, "{m} ");
        }
        sll_protocol(nd, et, length);
    }
    Ok(())
}

/// Solaris IPNET: a 24-byte header with the address family and zone ids.
fn ipnet_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "ipnet";
    if !nd.ttest(0, 24) {
        return Err(Jump);
    }
    let family = nd.u8(1)?;
    match family {
        2 => ip_print(nd, 24, length - 24),
        26 => ip6_print(nd, 24, length - 24),
        _ => {
            let (zs, zd) = (nd.be32(16)?, nd.be32(20)?);
            let name = match family {
                2 => "IPv4",
                26 => "IPv6",
                _ => "Unknown",
            };
            let _ = write!(
                nd.out,
                "{zs} > {zd}, family {name} ({family}), length {length}: "
            );
            Ok(())
        }
    }
}

/// IP over InfiniBand (RFC 4391): 40 bytes of addressing, the ethertype, 2 reserved.
fn ipoib_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "ipoib";
    if !nd.ttest(0, 44) || length < 44 {
        return Err(Jump);
    }
    let et = nd.be16(40)?;
    let known = link_payload(nd, et, 44, length - 44)?;
    if !known {
        let name = ethertype_name(et).unwrap_or("Unknown");
        let _ = write!(nd.out, ", ethertype {name} (0x{et:04x}), length {length}: ");
    }
    Ok(())
}
