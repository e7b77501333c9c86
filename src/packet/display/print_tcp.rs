//! TCP as tcpdump 4.99 prints it with -S (print-tcp.c): ports beside the enclosing IP
//! header's addresses, flags, sequence numbers, window, every option tcpdump names
//! (MPTCP in [`super::print_mptcp`], TCP Fast Open here), then the payload by port: the
//! text protocols ([`super::print_txt`]), DNS, and the names of BGP, OpenFlow, RPKI-RTR,
//! BEEP and RESP ([`super::print_apps`]).

use std::fmt::Write as _;

use super::nd::{IpRef, Jump, Nd, IPPROTO_TCP, R};
use super::print_apps::{beep_print, name_only, resp_print};
use super::print_dns::domain_print;
use super::print_mptcp::mptcp_print;
use super::print_txt::{ssh_print, txtproto_print, HTTP_CMDS, RTSP_CMDS};
use crate::packet::tcp::{field, kind};
use crate::packet::TcpFlags;

/// What tcpdump does with a TCP payload, by port, in the order it checks the ports.
#[derive(Clone, Copy)]
enum TcpApp {
    /// A protocol tcpdump decodes and tcpcraft does not (telnet, PPTP, NetBIOS, SMB,
    /// MSDP, LDP): the line ends after `length N`, where tcpdump would go on.
    NotDecoded,
    Smtp,
    Whois,
    Bgp,
    Resp,
    Beep,
    OpenFlow,
    RpkiRtr,
    Ssh,
    Ftp,
    Http,
    Rtsp,
    Dns,
}

const TCP_APPS: [(u16, TcpApp); 21] = [
    (23, TcpApp::NotDecoded),
    (25, TcpApp::Smtp),
    (43, TcpApp::Whois),
    (179, TcpApp::Bgp),
    (1723, TcpApp::NotDecoded),
    (6379, TcpApp::Resp),
    (22, TcpApp::Ssh),
    (139, TcpApp::NotDecoded),
    (445, TcpApp::NotDecoded),
    (10288, TcpApp::Beep),
    (6633, TcpApp::OpenFlow),
    (6653, TcpApp::OpenFlow),
    (21, TcpApp::Ftp),
    (80, TcpApp::Http),
    (8080, TcpApp::Http),
    (554, TcpApp::Rtsp),
    (8554, TcpApp::Rtsp),
    (53, TcpApp::Dns),
    (639, TcpApp::NotDecoded),
    (323, TcpApp::RpkiRtr),
    (646, TcpApp::NotDecoded),
];

// The flag bits of the header's flags byte ([`field::FLAGS`]).
const TH_FIN: u8 = TcpFlags::FIN as u8;
const TH_SYN: u8 = TcpFlags::SYN as u8;
const TH_RST: u8 = TcpFlags::RST as u8;
const TH_ACK: u8 = TcpFlags::ACK as u8;
const TH_URG: u8 = TcpFlags::URG as u8;

/// The header length the data offset nibble of the header at `bp` gives.
fn data_offset(nd: &Nd, bp: usize) -> R<usize> {
    Ok(usize::from(nd.u8(bp + field::DATA_OFF)? >> 4) * 4)
}

pub(super) fn tcp_print(nd: &mut Nd, bp: usize, length: usize, ip: Option<IpRef>) -> R {
    nd.proto = "tcp";
    if !nd.ttest(bp + field::DST_PORT.start, field::DST_PORT.len()) {
        if let Some(ip) = ip {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}:");
        }
        return Err(Jump);
    }
    let sport = nd.be16(bp + field::SRC_PORT.start)?;
    let dport = nd.be16(bp + field::DST_PORT.start)?;
    match ip {
        Some(ip) if ip.proto(nd)? == IPPROTO_TCP => ip.push_ports(nd, sport, dport)?,
        _ => {
            let _ = write!(nd.out, "{sport} > {dport}: ");
        }
    }
    if !nd.ttest(bp, field::HEADER_LEN) {
        return Err(Jump);
    }
    // tcpdump does this arithmetic in `u_int`; keep its wrap-around.
    let length = length as u32;
    let mut hlen = data_offset(nd, bp)? as u32;
    if hlen < field::HEADER_LEN as u32 {
        let _ = write!(
            nd.out,
            " tcp {} [bad hdr length {hlen} - too short, < 20]",
            length.wrapping_sub(hlen)
        );
        return Ok(());
    }
    let seq = nd.be32(bp + field::SEQ_NUM.start)?;
    let ack = nd.be32(bp + field::ACK_NUM.start)?;
    let win = nd.be16(bp + field::WIN_SIZE.start)?;
    let urp = nd.be16(bp + field::URGENT.start)?;
    let flags = nd.u8(bp + field::FLAGS)?;
    nd.p("Flags [");
    push_tcp_flags(&mut nd.out, flags);
    nd.out.push(']');
    if hlen > length {
        let _ = write!(nd.out, " [bad hdr length {hlen} - too long, > {length}]");
        return Ok(());
    }
    let length = length - hlen;
    if length > 0 || flags & (TH_SYN | TH_FIN | TH_RST) != 0 {
        nd.p(", seq ");
        nd.num(seq.into());
        if length > 0 {
            nd.out.push(':');
            nd.num(seq.wrapping_add(length).into());
        }
    }
    if flags & TH_ACK != 0 {
        nd.p(", ack ");
        nd.num(ack.into());
    }
    nd.p(", win ");
    nd.num(win.into());
    if flags & TH_URG != 0 {
        let _ = write!(nd.out, ", urg {urp}");
    }
    if hlen > field::HEADER_LEN as u32 {
        hlen -= field::HEADER_LEN as u32;
        nd.p(", options [");
        match tcp_options(nd, bp, bp + field::HEADER_LEN, hlen, length)? {
            Opts::Done => nd.p("]"),
            Opts::Bad { ch } => {
                nd.p("[bad opt]");
                if ch {
                    nd.p("]");
                }
                return Ok(());
            }
            Opts::Trunc { ch } => {
                nd.trunc();
                if ch {
                    nd.p(">");
                }
                return Ok(());
            }
        }
    }
    nd.p(", length ");
    nd.num(length.into());
    if length == 0 {
        return Ok(());
    }
    let header_len = data_offset(nd, bp)?;
    if !nd.ttest(bp, header_len) {
        let avail = nd.snapend.saturating_sub(bp);
        let _ = write!(
            nd.out,
            " [remaining caplen({avail}) < header length({header_len})]"
        );
        return Err(Jump);
    }
    let data = bp + field::PAYLOAD(header_len).start;
    let app = TCP_APPS
        .iter()
        .find(|(p, _)| sport == *p || dport == *p)
        .map(|(_, a)| *a);
    let len = length as usize;
    match app {
        None | Some(TcpApp::NotDecoded) => Ok(()),
        Some(TcpApp::Bgp) => name_only(nd, ": BGP"),
        Some(TcpApp::OpenFlow) => name_only(nd, ": OpenFlow"),
        Some(TcpApp::RpkiRtr) => name_only(nd, ", RPKI-RTR"),
        Some(TcpApp::Beep) => beep_print(nd, data, len),
        Some(TcpApp::Resp) => resp_print(nd, data, len),
        Some(TcpApp::Ssh) => ssh_print(nd, data, len),
        Some(TcpApp::Dns) => domain_print(nd, data, len, true),
        Some(TcpApp::Whois) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "whois", None)
        }
        Some(TcpApp::Smtp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "smtp", None)
        }
        Some(TcpApp::Ftp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "ftp", None)
        }
        Some(TcpApp::Http) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "http", Some(&HTTP_CMDS))
        }
        Some(TcpApp::Rtsp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "rtsp", Some(&RTSP_CMDS))
        }
    }
}

/// tcpdump's flag letters (`bittok2str_nosep` over the flags byte): F S R P . U E W.
fn push_tcp_flags(s: &mut String, flags: u8) {
    let start = s.len();
    for (bit, c) in [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if s.len() == start {
        s.push_str("none");
    }
}

/// How the options loop ended; `ch`: whether an option was printed (tcpdump's `ch`).
enum Opts {
    Done,
    Bad { ch: bool },
    Trunc { ch: bool },
}

fn tcp_option_name(opt: u8) -> Option<&'static str> {
    Some(match opt {
        0 => "eol",
        1 => "nop",
        2 => "mss",
        3 => "wscale",
        4 => "sackOK",
        5 => "sack",
        6 => "echo",
        7 => "echoreply",
        8 => "TS",
        11 => "cc",
        12 => "ccnew",
        13 => "",
        19 => "md5",
        20 => "scps",
        28 => "uto",
        29 => "tcp-ao",
        30 => "mptcp",
        34 => "tfo",
        254 => "exp",
        _ => return None,
    })
}

/// The options loop of `tcp_print`, with its `LENCHECK`: an option whose data would run
/// past the header is `[bad opt]`, past the capture is a truncation.
fn tcp_options(nd: &mut Nd, tp: usize, mut cp: usize, mut hlen: u32, length: u32) -> R<Opts> {
    let mut ch = false;
    macro_rules! lencheck {
        ($l:expr) => {{
            let l: u32 = $l;
            if l > hlen {
                return Ok(Opts::Bad { ch });
            }
            if !nd.ttest(cp, l as usize) {
                return Ok(Opts::Trunc { ch });
            }
        }};
    }
    while hlen > 0 {
        if ch {
            nd.p(",");
        }
        let opt = nd.u8(cp)?;
        cp += 1;
        let zerolen = opt == kind::EOL || opt == kind::NOP;
        let len: u32 = if zerolen {
            1
        } else {
            let l = u32::from(nd.u8(cp)?);
            cp += 1;
            if l < 2 || l > hlen {
                return Ok(Opts::Bad { ch });
            }
            hlen -= 1;
            l
        };
        hlen -= 1;
        let mut datalen: u32 = 0;
        match tcp_option_name(opt) {
            Some(n) => nd.p(n),
            None => {
                let _ = write!(nd.out, "unknown-{opt}");
            }
        }
        match opt {
            kind::MSS => {
                datalen = 2;
                lencheck!(datalen);
                let v = nd.be16(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            kind::WSCALE => {
                datalen = 1;
                lencheck!(datalen);
                let v = nd.u8(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            kind::SACK => {
                datalen = len - 2;
                if datalen % 8 != 0 {
                    nd.p(" invalid sack");
                } else {
                    let _ = write!(nd.out, " {} ", datalen / 8);
                    let mut i = 0;
                    while i < datalen {
                        lencheck!(i + 4);
                        let s = nd.be32(cp + i as usize)?;
                        lencheck!(i + 8);
                        let e = nd.be32(cp + i as usize + 4)?;
                        let _ = write!(nd.out, "{{{s}:{e}}}");
                        i += 8;
                    }
                }
            }
            6 | 7 | 11 | 12 | 13 => {
                datalen = 4;
                lencheck!(datalen);
                let v = nd.be32(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            kind::TIMESTAMP => {
                datalen = 8;
                lencheck!(datalen);
                let (a, b) = (nd.be32(cp)?, nd.be32(cp + 4)?);
                let _ = write!(nd.out, " val {a} ecr {b}");
            }
            kind::MD5 => {
                datalen = 16;
                lencheck!(datalen);
                nd.p(" ");
                // tcpdump (built with OpenSSL) tries to verify the signature; it has no
                // secret without -M, so it says so and prints the digest.
                let data = tp + data_offset(nd, tp)?;
                if !nd.ttest(data, length as usize) {
                    nd.p("snaplen too short, ");
                } else {
                    nd.p("shared secret not supplied with -M, ");
                }
                nd.p("can't check - ");
                for i in 0..16 {
                    let v = nd.u8(cp + i)?;
                    let _ = write!(nd.out, "{v:02x}");
                }
            }
            20 => {
                datalen = 2;
                lencheck!(datalen);
                let (a, b) = (nd.u8(cp)?, nd.u8(cp + 1)?);
                let _ = write!(nd.out, " cap {a:02x} id {b}");
            }
            kind::TCP_AO => {
                datalen = len - 2;
                if datalen < 2 {
                    nd.p(" (invalid)");
                } else {
                    lencheck!(1);
                    let k = nd.u8(cp)?;
                    let _ = write!(nd.out, " keyid {k}");
                    lencheck!(2);
                    let r = nd.u8(cp + 1)?;
                    let _ = write!(nd.out, " rnextkeyid {r}");
                    if datalen > 2 {
                        nd.p(" mac 0x");
                        for i in 2..datalen {
                            lencheck!(i + 1);
                            let v = nd.u8(cp + i as usize)?;
                            let _ = write!(nd.out, "{v:02x}");
                        }
                    }
                }
            }
            kind::EOL | kind::NOP | kind::SACK_OK => {}
            kind::USER_TIMEOUT => {
                datalen = 2;
                lencheck!(datalen);
                let v = u32::from(nd.be16(cp)?);
                let secs = if v & 1 != 0 { (v >> 1) * 60 } else { v >> 1 };
                let _ = write!(nd.out, " 0x{v:x} {secs}");
            }
            kind::TFO => {
                datalen = len - 2;
                lencheck!(datalen);
                nd.p(" ");
                tfo(nd, cp, datalen, false)?;
            }
            kind::MPTCP => {
                datalen = len - 2;
                lencheck!(datalen);
                // MPTCP reads only its own option: the readable end moves in to it.
                let saved = nd.snapend;
                nd.snapend = nd.snapend.min(cp - 2 + len as usize);
                let flags = nd.u8(tp + field::FLAGS)?;
                let (syn, ack) = (flags & TH_SYN != 0, flags & TH_ACK != 0);
                let ok = mptcp_print(nd, cp - 2, len as usize, syn, ack)?;
                nd.snapend = saved;
                if !ok {
                    return Ok(Opts::Bad { ch });
                }
            }
            254 => {
                datalen = len - 2;
                lencheck!(datalen);
                if datalen < 2 {
                    return Ok(Opts::Bad { ch });
                }
                let magic = nd.be16(cp)?;
                nd.p("-");
                if magic == 0xf989 {
                    tfo(nd, cp + 2, datalen - 2, true)?;
                } else {
                    let _ = write!(nd.out, "{magic:04x}");
                }
            }
            _ => {
                // Unknown kinds (and MPTCP, which tcpcraft does not dissect) as hex.
                datalen = len - 2;
                if datalen > 0 {
                    nd.p(" 0x");
                }
                for i in 0..datalen {
                    lencheck!(i + 1);
                    let v = nd.u8(cp + i as usize)?;
                    let _ = write!(nd.out, "{v:02x}");
                }
            }
        }
        cp += datalen as usize;
        hlen -= datalen;
        let mut seen = datalen + 1;
        if !zerolen {
            seen += 1;
        }
        if seen != len {
            let _ = write!(nd.out, "[len {len}]");
        }
        ch = true;
        if opt == kind::EOL {
            break;
        }
    }
    Ok(Opts::Done)
}

/// TCP Fast Open (RFC 7413), as kind 34 or as experiment 254 with magic 0xf989.
fn tfo(nd: &mut Nd, cp: usize, datalen: u32, exp: bool) -> R {
    if exp {
        nd.p("tfo");
    }
    if datalen == 0 {
        nd.p(" cookiereq");
    } else if datalen % 2 != 0 || !(4..=16).contains(&datalen) {
        nd.p(" (invalid)");
    } else {
        nd.p(" cookie ");
        for i in 0..datalen as usize {
            let v = nd.u8(cp + i)?;
            let _ = write!(nd.out, "{v:02x}");
        }
    }
    Ok(())
}
