//! Tunnels, printed with the packet they carry as tcpdump 4.99 prints them (print-gre.c,
//! print-vxlan.c, print-geneve.c, print-mpls.c): GRE versions 0 and 1 (PPTP), VXLAN
//! (UDP 4789), Geneve (UDP 6081) and MPLS (over Ethernet, GRE and UDP 6635). IP-in-IP and
//! 6in4/4in6 are the IP printers calling themselves (`demux`).
//!
//! What a tunnel carries is printed by a lower layer's printer (IP, Ethernet, PPP): it
//! is reached through [`Nd`]'s table of lower printers, as the print_*.rs files below
//! import this one.

use std::fmt::Write as _;

use super::ethertype::{ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTI, ETHERTYPE_PPP, ETHERTYPE_TEB};
use super::nd::{Jump, Nd, MAX_IP_DEPTH, R};

/// Counts one more level of encapsulation; past [`MAX_IP_DEPTH`] the line ends with the
/// truncation marker (a crafted packet of nested tunnels must not exhaust the stack).
fn deeper(nd: &mut Nd) -> R {
    nd.depth += 1;
    if nd.depth > MAX_IP_DEPTH {
        return Err(Jump);
    }
    Ok(())
}

/// GRE (RFC 2784/2890) and enhanced GRE for PPTP (RFC 2637).
pub(super) fn gre_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "gre";
    let flags = nd.be16(bp)?;
    let ver = flags & 7;
    let _ = write!(nd.out, "GREv{ver}");
    match ver {
        0 | 1 => {}
        _ => {
            nd.p(" ERROR: unknown-version");
            return Ok(());
        }
    }
    let mut len = length.saturating_sub(2);
    let mut at = bp + 2;
    if len < 2 {
        return Err(Jump);
    }
    let prot = nd.be16(at)?;
    at += 2;
    len -= 2;
    let take = |nd: &Nd, at: &mut usize, len: &mut usize, n: usize| -> R<u32> {
        if *len < n {
            return Err(Jump);
        }
        let v = if n == 2 {
            u32::from(nd.be16(*at)?)
        } else {
            nd.be32(*at)?
        };
        *at += n;
        *len -= n;
        Ok(v)
    };
    if ver == 0 {
        if flags & 0xc000 != 0 {
            take(nd, &mut at, &mut len, 2)?;
            let off = take(nd, &mut at, &mut len, 2)?;
            let _ = write!(nd.out, ", off 0x{off:x}");
        }
        if flags & 0x2000 != 0 {
            let k = take(nd, &mut at, &mut len, 4)?;
            let _ = write!(nd.out, ", key=0x{k:x}");
        }
        if flags & 0x1000 != 0 {
            let s = take(nd, &mut at, &mut len, 4)?;
            let _ = write!(nd.out, ", seq {s}");
        }
        if flags & 0x4000 != 0 {
            // Source routes: address family, offset, length, then the entries.
            loop {
                let af = take(nd, &mut at, &mut len, 2)?;
                let _ = take(nd, &mut at, &mut len, 1);
                if len < 1 {
                    return Err(Jump);
                }
                let srelen = usize::from(nd.u8(at)?);
                at += 1;
                len -= 1;
                if af == 0 && srelen == 0 {
                    break;
                }
                if len < srelen {
                    return Err(Jump);
                }
                at += srelen;
                len -= srelen;
            }
        }
        let _ = write!(nd.out, ", length {length}: ");
        deeper(nd)?;
        match prot {
            0x0800 => nd.print_ip(at, len),
            0x86dd => nd.print_ip6(at, len),
            ETHERTYPE_MPLS => mpls_print(nd, at, len),
            ETHERTYPE_TEB => nd.print_ether(at, len),
            _ => {
                let _ = write!(nd.out, "gre-proto-0x{prot:x}");
                Ok(())
            }
        }
    } else {
        if flags & 0x2000 != 0 {
            let k = take(nd, &mut at, &mut len, 4)?;
            let _ = write!(nd.out, ", call {}", k & 0xffff);
        }
        if flags & 0x1000 != 0 {
            let s = take(nd, &mut at, &mut len, 4)?;
            let _ = write!(nd.out, ", seq {s}");
        }
        if flags & 0x0080 != 0 {
            let a = take(nd, &mut at, &mut len, 4)?;
            let _ = write!(nd.out, ", ack {a}");
        }
        if flags & 0x1000 == 0 {
            nd.p(", no-payload");
        }
        let _ = write!(nd.out, ", length {length}");
        if flags & 0x1000 == 0 {
            return Ok(());
        }
        nd.p(": ");
        deeper(nd)?;
        match prot {
            ETHERTYPE_PPP => {
                nd.proto = "ppp";
                nd.print_ppp(at, len)
            }
            _ => {
                let _ = write!(nd.out, "gre-proto-0x{prot:x}");
                Ok(())
            }
        }
    }
}

/// An MPLS label stack, then IPv4 or IPv6 when the labels or the first nibble say so.
pub(super) fn mpls_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "mpls";
    nd.p("MPLS");
    let mut at = bp;
    let mut length = length;
    let mut label;
    loop {
        if length < 4 {
            nd.p(" (invalid)");
            return Ok(());
        }
        let e = nd.be32(at)?;
        label = e >> 12;
        let _ = write!(nd.out, " (label {label}, tc {}", (e >> 9) & 7);
        if e & 0x100 != 0 {
            nd.p(", [S]");
        }
        let _ = write!(nd.out, ", ttl {})", e & 0xff);
        at += 4;
        length -= 4;
        if e & 0x100 != 0 {
            break;
        }
    }
    let v6 = match label {
        0 | 3 => false,
        2 => true,
        _ => {
            if length < 1 {
                return Ok(());
            }
            match nd.u8(at)? >> 4 {
                4 if length >= 20 => false,
                6 if length >= 40 => true,
                _ => return Ok(()),
            }
        }
    };
    nd.p(" ");
    deeper(nd)?;
    if v6 {
        nd.print_ip6(at, length)
    } else {
        nd.print_ip(at, length)
    }
}

/// VXLAN (RFC 7348): flags and VNI, then the Ethernet frame inside on a line of its own,
/// as tcpdump prints it.
pub(super) fn vxlan_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "vxlan";
    if length < 8 {
        nd.p("VXLAN (invalid)");
        return Ok(());
    }
    nd.p("VXLAN, ");
    let flags = nd.u8(bp)?;
    let i = if flags & 0x08 != 0 { "I" } else { "invalid" };
    let _ = write!(nd.out, "flags [{i}] (0x{flags:02x}), ");
    let vni = u32::from(nd.u8(bp + 4)?) << 16 | u32::from(nd.be16(bp + 5)?);
    // tcpdump ends the line here: the inner frame prints on a line of its own.
    let _ = writeln!(nd.out, "vni {vni}");
    if !nd.ttest(bp, 8) {
        return Err(Jump);
    }
    deeper(nd)?;
    nd.print_ether(bp + 8, length - 8)
}

/// Geneve (RFC 8926): flags, VNI, the size of the options, then the inner packet.
pub(super) fn geneve_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "geneve";
    nd.p("Geneve");
    if !nd.ttest(bp, 8) {
        return Err(Jump);
    }
    let vo = nd.u8(bp)?;
    let ver = vo >> 6;
    if ver != 0 {
        let _ = write!(nd.out, " ERROR: unknown-version {ver}");
        return Ok(());
    }
    let flags = nd.u8(bp + 1)?;
    let prot = nd.be16(bp + 2)?;
    let vni = nd.be32(bp + 4)? >> 8;
    let rsvd = nd.u8(bp + 7)?;
    let mut f = String::new();
    for (bit, name) in [
        (0x80, "O"),
        (0x40, "C"),
        (0x20, "R1"),
        (0x10, "R2"),
        (0x08, "R3"),
        (0x04, "R4"),
        (0x02, "R5"),
        (0x01, "R6"),
    ] {
        if flags & bit != 0 {
            f.push_str(name);
        }
    }
    if f.is_empty() {
        f.push_str("none");
    }
    let _ = write!(nd.out, ", Flags [{f}], vni 0x{vni:x}");
    if rsvd != 0 {
        let _ = write!(nd.out, ", rsvd 0x{rsvd:x}");
    }
    let len = length.saturating_sub(8);
    let opts = usize::from(vo & 0x3f) * 4;
    if len < opts {
        let _ = write!(nd.out, " truncated-geneve - {} bytes missing", opts - len);
        return Ok(());
    }
    if opts > 0 {
        let _ = write!(nd.out, ", options [{opts} bytes]");
    }
    nd.p(": ");
    let (at, len) = (bp + 8 + opts, len - opts);
    deeper(nd)?;
    if !nd.print_ethertype(prot, at, len)? {
        if prot == ETHERTYPE_TEB {
            nd.print_ether(at, len)?;
        } else {
            let _ = write!(nd.out, "geneve-proto-0x{prot:x}");
        }
    }
    Ok(())
}

/// MPLS ethertypes for `link_payload` (print_ether.rs).
pub(super) fn is_mpls(et: u16) -> bool {
    et == ETHERTYPE_MPLS || et == ETHERTYPE_MPLS_MULTI
}
