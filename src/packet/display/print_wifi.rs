//! 802.11 frames behind a radiotap header, as tcpdump 4.99 prints them without -e
//! (print-802_11.c): the radiotap fields of the first presence word (rate, channel,
//! signal, …), data frames through LLC/SNAP to IP, IPv6 and ARP, control frames by name
//! and address, and beacons and probes with SSID, rates and channel.

use std::fmt::Write as _;

use super::ethertype::ethertype_name;
use super::nd::{mac, Jump, Nd, R};
use super::print_apps::print_char;
use super::print_ether::link_payload;

fn le16(nd: &Nd, at: usize) -> R<u16> {
    Ok(u16::from_le_bytes([nd.u8(at)?, nd.u8(at + 1)?]))
}

fn le32(nd: &Nd, at: usize) -> R<u32> {
    Ok(u32::from(le16(nd, at)?) | u32::from(le16(nd, at + 2)?) << 16)
}

const F_CFP: u8 = 0x01;
const F_SHORTPRE: u8 = 0x02;
const F_WEP: u8 = 0x04;
const F_FRAG: u8 = 0x08;
const F_FCS: u8 = 0x10;
const F_DATAPAD: u8 = 0x20;
const F_BADFCS: u8 = 0x40;

/// (alignment, size) of the radiotap fields of the default namespace, by presence bit.
const FIELDS: [(usize, usize); 18] = [
    (8, 8), // TSFT
    (1, 1), // flags
    (1, 1), // rate
    (2, 4), // channel
    (2, 2), // FHSS
    (1, 1), // dBm antenna signal
    (1, 1), // dBm antenna noise
    (2, 2), // lock quality
    (2, 2), // TX attenuation
    (2, 2), // dB TX attenuation
    (1, 1), // dBm TX power
    (1, 1), // antenna
    (1, 1), // dB antenna signal
    (1, 1), // dB antenna noise
    (2, 2), // RX flags
    (2, 2), // TX flags
    (1, 1), // RTS retries
    (1, 1), // data retries
];

fn chaninfo(nd: &mut Nd, freq: u16, flags: u16) {
    const TURBO: u16 = 0x10;
    const CCK: u16 = 0x20;
    const OFDM: u16 = 0x40;
    const G2: u16 = 0x80;
    const G5: u16 = 0x100;
    const DYN: u16 = 0x400;
    const GFSK: u16 = 0x800;
    const HALF: u16 = 0x4000;
    const QUARTER: u16 = 0x8000;
    let has = |m: u16| flags & m == m;
    let _ = write!(nd.out, "{freq} MHz");
    if has(G2 | GFSK) {
        nd.p(" FHSS");
    }
    let width = if flags & HALF != 0 {
        "/10Mhz"
    } else if flags & QUARTER != 0 {
        "/5Mhz"
    } else {
        ""
    };
    if has(G5 | OFDM) {
        let _ = write!(nd.out, " 11a{width}");
    }
    if has(G2 | OFDM) || has(G2 | DYN) {
        let _ = write!(nd.out, " 11g{width}");
    } else if has(G2 | CCK) {
        nd.p(" 11b");
    }
    if flags & TURBO != 0 {
        nd.p(" Turbo");
    }
    nd.p(" ");
}

/// The radiotap header's length and flags byte, and where its fields start.
struct Radiotap {
    len: usize,
    flags: u8,
}

/// Walks the radiotap fields, printing them when `print` (tcpdump prints them as it goes).
fn radiotap_fields(nd: &mut Nd, print: bool) -> R<Radiotap> {
    let len = usize::from(le16(nd, 2)?);
    if !nd.ttest(0, len) || len < 8 {
        return Err(Jump);
    }
    // The presence words: a set bit 31 says another word follows.
    let present = le32(nd, 4)?;
    let mut at = 8;
    let mut word = present;
    while word & 0x8000_0000 != 0 {
        if at + 4 > len {
            return Err(Jump);
        }
        word = le32(nd, at)?;
        at += 4;
    }
    let mut flags = 0;
    for (bit, &(align, size)) in FIELDS.iter().enumerate() {
        if present & (1 << bit) == 0 {
            continue;
        }
        at = at.div_ceil(align) * align;
        if at + size > len {
            return Err(Jump);
        }
        match bit {
            0 => {
                let t = u64::from(le32(nd, at)?) | u64::from(le32(nd, at + 4)?) << 32;
                if print {
                    let _ = write!(nd.out, "{t}us tsft ");
                }
            }
            1 => {
                flags = nd.u8(at)?;
                if print {
                    for (f, w) in [
                        (F_CFP, "cfp "),
                        (F_SHORTPRE, "short preamble "),
                        (F_WEP, "wep "),
                        (F_FRAG, "fragmented "),
                        (F_BADFCS, "bad-fcs "),
                    ] {
                        if flags & f != 0 {
                            nd.p(w);
                        }
                    }
                }
            }
            2 => {
                let r = nd.u8(at)?;
                if print {
                    if (0x80..=0x8f).contains(&r) {
                        let _ = write!(nd.out, "MCS {} ", r & 0x7f);
                    } else {
                        let _ = write!(nd.out, "{:.1} Mb/s ", f64::from(r) * 0.5);
                    }
                }
            }
            3 => {
                let (freq, cf) = (le16(nd, at)?, le16(nd, at + 2)?);
                if print {
                    chaninfo(nd, freq, cf);
                }
            }
            4 => {
                let (set, pat) = (nd.u8(at)?, nd.u8(at + 1)?);
                if print {
                    let _ = write!(nd.out, "fhset {set} fhpat {pat} ");
                }
            }
            5 | 6 => {
                let v = nd.u8(at)? as i8;
                if print {
                    let what = if bit == 5 { "signal" } else { "noise" };
                    let _ = write!(nd.out, "{v}dBm {what} ");
                }
            }
            7 => {
                let v = le16(nd, at)?;
                if print {
                    let _ = write!(nd.out, "{v} sq ");
                }
            }
            8 => {
                let v = le16(nd, at)?;
                if print {
                    let _ = write!(nd.out, "{} tx power ", -i32::from(v));
                }
            }
            9 => {
                let v = le16(nd, at)?;
                if print {
                    let _ = write!(nd.out, "{}dB tx attenuation ", -i32::from(v));
                }
            }
            10 => {
                let v = nd.u8(at)? as i8;
                if print {
                    let _ = write!(nd.out, "{v}dBm tx power ");
                }
            }
            11 => {
                let v = nd.u8(at)?;
                if print {
                    let _ = write!(nd.out, "antenna {v} ");
                }
            }
            12 | 13 => {
                let v = nd.u8(at)?;
                if print {
                    let what = if bit == 12 { "signal" } else { "noise" };
                    let _ = write!(nd.out, "{v}dB {what} ");
                }
            }
            _ => {}
        }
        at += size;
    }
    Ok(Radiotap { len, flags })
}

/// DLT_IEEE802_11_RADIO.
pub(super) fn radiotap_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "802.11_radio";
    if !nd.ttest(0, 8) {
        return Err(Jump);
    }
    let rt = radiotap_fields(nd, true)?;
    let fcslen = if rt.flags & F_FCS != 0 { 4 } else { 0 };
    let pad = rt.flags & F_DATAPAD != 0;
    nd.proto = "802.11";
    ieee802_11_print(nd, rt.len, length.saturating_sub(rt.len), pad, fcslen)
}

const T_MGMT: u16 = 0;
const T_CTRL: u16 = 1;
const T_DATA: u16 = 2;

/// The 802.11 header length for a frame control word (0: tcpdump stops there).
fn header_len(fc: u16) -> usize {
    let (ty, sub) = ((fc >> 2) & 3, (fc >> 4) & 0xf);
    match ty {
        T_MGMT => 24,
        T_CTRL => match sub {
            7 => 10,
            8 => 20,
            9 => 16,
            10 | 11 | 14 | 15 => 16,
            12 | 13 => 10,
            _ => 0,
        },
        T_DATA => {
            let mut l = if fc & 0x0300 == 0x0300 { 30 } else { 24 };
            if sub & 8 != 0 {
                l += 2;
            }
            l
        }
        _ => 0,
    }
}

fn ieee802_11_print(nd: &mut Nd, bp: usize, length: usize, pad: bool, fcslen: usize) -> R {
    if length < fcslen {
        return Err(Jump);
    }
    let length = length - fcslen;
    // The FCS is not part of what the printers below may read.
    nd.snapend = nd.snapend.min(bp + length);
    if length < 2 {
        return Err(Jump);
    }
    let fc = le16(nd, bp)?;
    let mut hdrlen = header_len(fc);
    if hdrlen == 0 {
        return Ok(());
    }
    if pad {
        hdrlen = hdrlen.div_ceil(4) * 4;
    }
    if !nd.ttest(bp, hdrlen) {
        return Err(Jump);
    }
    let (ty, sub) = ((fc >> 2) & 3, (fc >> 4) & 0xf);
    let body = bp + hdrlen;
    let blen = length - hdrlen.min(length);
    match ty {
        T_MGMT => mgmt_print(nd, sub, body, fc),
        T_CTRL => ctrl_print(nd, sub, bp),
        _ => {
            if sub & 4 != 0 {
                // A frame without data (null function): tcpdump prints nothing.
                return Ok(());
            }
            if fc & 0x4000 != 0 {
                nd.p("Data");
                let iv = le32(nd, body)?;
                let _ = write!(
                    nd.out,
                    " IV:{:3x} Pad {:x} KeyID {:x}",
                    iv & 0xff_ffff,
                    (iv >> 24) & 0x3f,
                    (iv >> 30) & 3
                );
                return Ok(());
            }
            let addr = |at: usize| -> R<String> { Ok(mac(nd.slice(bp + at, 6)?)) };
            let (src, dst) = match (fc >> 8) & 3 {
                0 => (addr(10)?, addr(4)?),
                1 => (addr(10)?, addr(16)?),
                2 => (addr(16)?, addr(4)?),
                _ => (addr(24)?, addr(16)?),
            };
            llc_print(nd, body, blen, &src, &dst)
        }
    }
}

/// LLC with a SNAP header and the encapsulated-Ethernet OUI: an ethertype follows.
fn llc_print(nd: &mut Nd, bp: usize, length: usize, src: &str, dst: &str) -> R {
    nd.proto = "llc";
    if length < 3 || !nd.ttest(bp, 3) {
        return Err(Jump);
    }
    let (dsap, ssap, ctl) = (nd.u8(bp)?, nd.u8(bp + 1)?, nd.u8(bp + 2)?);
    if dsap == 0xaa && ssap == 0xaa && ctl == 3 {
        nd.proto = "snap";
        let oui = u32::from(nd.u8(bp + 3)?) << 16 | u32::from(nd.be16(bp + 4)?);
        let et = nd.be16(bp + 6)?;
        let rest = length.saturating_sub(8);
        if oui == 0 {
            if !link_payload(nd, et, bp + 8, rest)? {
                let name = ethertype_name(et).unwrap_or("Unknown");
                let _ = write!(
                    nd.out,
                    "{src} > {dst} SNAP, ethertype {name} (0x{et:04x}), length {rest}: "
                );
            }
            return Ok(());
        }
        let _ = write!(
            nd.out,
            "{src} > {dst} SNAP, oui Unknown (0x{oui:06x}), pid Unknown (0x{et:04x}), length {rest}: "
        );
        return Ok(());
    }
    let _ = write!(
        nd.out,
        "LLC, dsap Unknown (0x{:02x}) Individual, ssap Unknown (0x{:02x}) Command, ctrl 0x{ctl:02x}",
        dsap & 0xfe,
        ssap & 0xfe
    );
    Ok(())
}

fn ctrl_print(nd: &mut Nd, sub: u16, bp: usize) -> R {
    let addr = |nd: &Nd, at: usize| -> R<String> { Ok(mac(nd.slice(bp + at, 6)?)) };
    match sub {
        8 => {
            nd.p("BAR");
            let (ra, ta) = (addr(nd, 4)?, addr(nd, 10)?);
            let (ctl, seq) = (le16(nd, bp + 16)?, le16(nd, bp + 18)?);
            let _ = write!(nd.out, " RA:{ra} TA:{ta} CTL({ctl:x}) SEQ({seq}) ");
        }
        9 => {
            nd.p("BA");
            let ra = addr(nd, 4)?;
            let _ = write!(nd.out, " RA:{ra} ");
        }
        10 => {
            nd.p("Power Save-Poll");
            let aid = le16(nd, bp + 2)?;
            let _ = write!(nd.out, " AID({aid:x})");
        }
        11 => {
            nd.p("Request-To-Send");
            let ta = addr(nd, 10)?;
            let _ = write!(nd.out, " TA:{ta} ");
        }
        12..=15 => {
            nd.p(match sub {
                12 => "Clear-To-Send",
                13 => "Acknowledgment",
                14 => "CF-End",
                _ => "CF-End+CF-Ack",
            });
            let ra = addr(nd, 4)?;
            let _ = write!(nd.out, " RA:{ra} ");
        }
        _ => nd.p("Unknown Ctrl Subtype"),
    }
    Ok(())
}

/// The information elements a beacon or probe carries that tcpdump prints.
#[derive(Default)]
struct Elements {
    ssid: Option<Vec<u8>>,
    rates: Option<Vec<u8>>,
    channel: Option<u8>,
}

fn parse_elements(nd: &Nd, mut at: usize) -> R<Elements> {
    let mut e = Elements::default();
    while nd.ttest(at, 2) {
        let (id, len) = (nd.u8(at)?, usize::from(nd.u8(at + 1)?));
        let body = nd.slice(at + 2, len)?;
        match id {
            0 if e.ssid.is_none() && len <= 32 => e.ssid = Some(body.to_vec()),
            1 if e.rates.is_none() => e.rates = Some(body.to_vec()),
            3 if e.channel.is_none() && len == 1 => e.channel = Some(body[0]),
            _ => {}
        }
        at += 2 + len;
    }
    Ok(e)
}

fn print_ssid(nd: &mut Nd, e: &Elements) {
    if let Some(s) = &e.ssid {
        nd.p(" (");
        for &c in s {
            print_char(&mut nd.out, c);
        }
        nd.p(")");
    }
}

fn print_rates(nd: &mut Nd, e: &Elements) {
    if let Some(r) = &e.rates {
        let mut sep = " [";
        for &x in r {
            let star = if x & 0x80 != 0 { "*" } else { "" };
            let _ = write!(nd.out, "{sep}{:.1}{star}", f64::from(x & 0x7f) * 0.5);
            sep = " ";
        }
        if !r.is_empty() {
            nd.p(" Mbit]");
        }
    }
}

fn mgmt_print(nd: &mut Nd, sub: u16, body: usize, _fc: u16) -> R {
    let name = match sub {
        0 => "Assoc Request",
        1 => "Assoc Response",
        2 => "ReAssoc Request",
        3 => "ReAssoc Response",
        4 => "Probe Request",
        5 => "Probe Response",
        8 => "Beacon",
        9 => "ATIM",
        10 => "Disassociation",
        11 => "Authentication",
        12 => "DeAuthentication",
        13 => "Action",
        _ => "",
    };
    if name.is_empty() {
        let _ = write!(nd.out, "Unhandled Management subtype({sub:x})");
    } else {
        nd.p(name);
    }
    match sub {
        4 => {
            let e = parse_elements(nd, body)?;
            print_ssid(nd, &e);
            print_rates(nd, &e);
        }
        5 | 8 => {
            if !nd.ttest(body, 12) {
                return Err(Jump);
            }
            let cap = le16(nd, body + 10)?;
            let e = parse_elements(nd, body + 12)?;
            print_ssid(nd, &e);
            print_rates(nd, &e);
            if sub == 8 {
                let _ = write!(nd.out, " {}", if cap & 1 != 0 { "ESS" } else { "IBSS" });
            }
            if let Some(c) = e.channel {
                let _ = write!(nd.out, " CH: {c}");
            }
            if cap & 0x10 != 0 {
                nd.p(", PRIVACY");
            }
        }
        _ => {}
    }
    Ok(())
}

/// Where IP starts in a radiotap frame carrying a data frame with LLC/SNAP.
pub(super) fn ip_offset(bytes: &[u8]) -> Option<usize> {
    let mut nd = Nd::reader(bytes);
    let rt = radiotap_fields(&mut nd, false).ok()?;
    let fc = le16(&nd, rt.len).ok()?;
    if (fc >> 2) & 3 != T_DATA || fc & 0x4000 != 0 {
        return None;
    }
    let mut h = header_len(fc);
    if rt.flags & F_DATAPAD != 0 {
        h = h.div_ceil(4) * 4;
    }
    let llc = rt.len + h;
    (bytes.get(llc..llc + 6)? == [0xaa, 0xaa, 3, 0, 0, 0]).then_some(llc + 8)
}
