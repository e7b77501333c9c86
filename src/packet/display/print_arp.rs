//! ARP (and RARP, InARP) as tcpdump 4.99 prints it (print-arp.c).

use std::fmt::Write as _;

use super::ethertype::{ethertype_name, ETHERTYPE_IPV4, ETHERTYPE_TRAIL};
use super::nd::{mac, Jump, Nd, R};
use crate::packet::arp::field;

pub(super) fn arp_print(nd: &mut Nd, ap: usize, length: usize) -> R {
    nd.proto = "arp";
    // The fixed part; the addresses that follow are as long as HLEN and PLEN say (the
    // field ranges past SHA.start hold for Ethernet and IPv4 only).
    if !nd.ttest(ap, field::SHA.start) {
        return Err(Jump);
    }
    let hrd = nd.be16(ap + field::HTYPE.start)?;
    let pro = nd.be16(ap + field::PTYPE.start)?;
    let hln = usize::from(nd.u8(ap + field::HLEN)?);
    let pln = usize::from(nd.u8(ap + field::PLEN)?);
    let op = nd.be16(ap + field::OPER.start)?;
    let sha = ap + field::SHA.start;
    let spa = sha + hln;
    let tha = spa + pln;
    let tpa = tha + hln;
    if !nd.ttest(tpa, pln) {
        return Err(Jump);
    }
    nd.p("ARP, ");
    if (pro != ETHERTYPE_IPV4 && pro != ETHERTYPE_TRAIL) || pln != 4 || hln == 0 {
        let hw = match hrd {
            1 => "Ethernet".to_string(),
            6 => "TokenRing".to_string(),
            _ => format!("Unknown Hardware ({hrd})"),
        };
        let proto = match ethertype_name(pro) {
            Some(n) => n.to_string(),
            None => format!("Unknown Protocol (0x{pro:04x})"),
        };
        let _ = write!(
            nd.out,
            "{hw} (len {hln}), {proto} (len {pln}), length {length}"
        );
        return Ok(());
    }
    let opname = match op {
        1 => "Request".to_string(),
        2 => "Reply".to_string(),
        3 => "Reverse Request".to_string(),
        4 => "Reverse Reply".to_string(),
        8 => "Inverse Request".to_string(),
        9 => "Inverse Reply".to_string(),
        10 => "NACK Reply".to_string(),
        _ => format!("Unknown ({op})"),
    };
    let _ = write!(nd.out, "{opname} ");
    let paddr = |nd: &Nd, at: usize| -> R<String> { nd.ip4(at) };
    let hwaddr = |nd: &Nd, at: usize| -> R<String> { Ok(mac(nd.slice(at, hln)?)) };
    match op {
        1 => {
            let t = paddr(nd, tpa)?;
            let _ = write!(nd.out, "who-has {t}");
            let th = nd.slice(tha, hln)?;
            if th.iter().any(|&b| b != 0) {
                let _ = write!(nd.out, " ({})", mac(th));
            }
            let s = paddr(nd, spa)?;
            let _ = write!(nd.out, " tell {s}");
        }
        2 => {
            let (s, m) = (paddr(nd, spa)?, hwaddr(nd, sha)?);
            let _ = write!(nd.out, "{s} is-at {m}");
        }
        3 | 8 => {
            let (t, s) = (hwaddr(nd, tha)?, hwaddr(nd, sha)?);
            let _ = write!(nd.out, "who-is {t} tell {s}");
        }
        4 => {
            let (m, t) = (hwaddr(nd, tha)?, paddr(nd, tpa)?);
            let _ = write!(nd.out, "{m} at {t}");
        }
        9 => {
            let (m, s) = (hwaddr(nd, sha)?, paddr(nd, spa)?);
            let _ = write!(nd.out, "{m} at {s}");
        }
        // tcpdump follows these with a hex dump on lines of their own.
        _ => return Ok(()),
    }
    let _ = write!(nd.out, ", length {length}");
    Ok(())
}
