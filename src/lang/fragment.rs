//! `fragment(p, size)`, `fragment6(p, mtu)`, `defragment(list, overlap=)` and
//! `frag6hdr(…)`: scapy's fragmentation functions over [`crate::packet::fragment`].
//! Fragments are ordinary packets (`IP/Raw`, `IPv6(nh=44)/Raw`): edit, reorder,
//! overlap, then `send` them, or `sr` them to have the reassembled datagram's answer.

use super::call::{Args, Interp, Value};
use super::error::Result;
use super::helpers::to_packets;
use crate::packet::fragment::{self, Frag6, Overlap};
use crate::packet::{Layer, Packet};

pub fn install(it: &mut Interp) {
    it.register(
        "fragment",
        "fragment(p, size=1480): IP fragments of at most size payload bytes (a multiple of 8; 8 splits the TCP header); IPv4: IP/Raw with frag, MF; IPv6: IPv6(nh=44)/Raw(frag6hdr()+data)",
        |it, a| frag(it, a, false),
    );
    it.register(
        "fragment6",
        "fragment6(p, mtu=1280): IPv6 fragments no longer than mtu bytes each (scapy's fragment6)",
        |it, a| frag(it, a, true),
    );
    it.register(
        "defragment",
        "defragment(packets, overlap=\"linux\"|\"first\"|\"last\"): reassemble as a receiver would; datagrams, then non-fragments, then fragments left over",
        defrag,
    );
    it.register(
        "frag6",
        "frag6(p): an IPv6 fragment's header as {nh, offset, m, id}; frag6(p, offset=, m=, id=, nh=): a copy with those changed",
        frag6,
    );
    it.register(
        "frag6hdr",
        "frag6hdr(nh=6, offset=0, m=false, id=0): the 8 bytes of an IPv6 Fragment header (offset in 8-byte units)",
        frag6hdr,
    );
}

fn frag(it: &mut Interp, a: &mut Args, mtu_form: bool) -> Result<Value> {
    let v = a.require(0, "p")?;
    let size = if mtu_form {
        a.int(1, "mtu")?.unwrap_or(1280)
    } else {
        a.int(1, "size")?.unwrap_or(1480)
    };
    a.finish(2)?;
    let p = v.as_packet().cloned().ok_or_else(|| {
        a.err(format!(
            "{}() takes a packet, not {}",
            a.name,
            v.type_name()
        ))
    })?;
    if mtu_form
        && p.ipv6()
            .is_none_or(|_| !matches!(p.layers.first(), Some(crate::packet::Layer::Ipv6(_))))
    {
        return Err(a.err("fragment6() takes an IPv6 packet (fragment() takes IPv4 too)"));
    }
    let per = if mtu_form {
        // What fits after the IPv6 and Fragment headers.
        size - (crate::packet::ipv6::HEADER_LEN + fragment::FRAG6_LEN) as i64
    } else {
        size
    };
    if !(8..=65535).contains(&per) {
        return Err(a.err(format!(
            "{}(): {} {size} leaves {per} bytes per fragment; a fragment carries 8 to 65535",
            a.name,
            if mtu_form { "mtu" } else { "size" }
        )));
    }
    // The source the route would choose goes in first, so that the transport checksum
    // (computed over the whole datagram before it is cut) is the one the receiver checks.
    let p = super::net::fill_source(&p, |d| it.net.route_source(d));
    let id = it.rng.range(1, i64::from(u32::MAX)) as u32;
    let frags = fragment::fragment(&p, per as usize, id).map_err(|e| a.err(e.to_string()))?;
    Ok(Value::list(frags.into_iter().map(Value::packet).collect()))
}

fn defrag(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "packets")?;
    let policy = a.string(usize::MAX, "overlap")?;
    a.finish(1)?;
    let policy = match policy.as_deref() {
        None => Overlap::Linux,
        Some(s) => Overlap::parse(s).ok_or_else(|| {
            a.err(format!(
                "defragment(): overlap must be \"linux\", \"first\" or \"last\", not {s:?}"
            ))
        })?,
    };
    let pkts = to_packets(&v, a.span_of(0))?;
    let d = fragment::defragment(&pkts, policy);
    let out: Vec<Value> = d
        .packets
        .into_iter()
        .chain(d.incomplete)
        .map(Value::packet)
        .collect();
    Ok(Value::list(out))
}

fn frag6hdr(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let nh = a.int(0, "nh")?.unwrap_or(6);
    let offset = a.int(1, "offset")?.unwrap_or(0);
    let m = a.get(2, "m").is_some_and(|v| v.truthy());
    let id = a.int(3, "id")?.unwrap_or(0);
    a.finish(4)?;
    let check = |v: i64, max: i64, name: &str| {
        if (0..=max).contains(&v) {
            Ok(())
        } else {
            Err(a.err(format!("frag6hdr(): {name} must be 0..={max}, not {v}")))
        }
    };
    check(nh, 255, "nh")?;
    check(offset, 0x1fff, "offset")?;
    check(id, i64::from(u32::MAX), "id")?;
    let h = Frag6 {
        nh: nh as u8,
        offset: offset as u16,
        m,
        id: id as u32,
    };
    Ok(Value::bytes(&h.bytes()))
}

/// `frag6(p)` reads an IPv6 fragment's Fragment header; with keywords, rewrites it.
fn frag6(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "p")?;
    let offset = a.int(usize::MAX, "offset")?;
    let m = a.kw("m").map(|v| v.truthy());
    let id = a.int(usize::MAX, "id")?;
    let nh = a.int(usize::MAX, "nh")?;
    a.finish(1)?;
    let not_frag = || {
        a.err("frag6() takes an IPv6 fragment: IPv6(nh=44)/Raw(frag6hdr(...) + data), as fragment() makes")
    };
    let p = v.as_packet().cloned().ok_or_else(not_frag)?;
    let (Some(Layer::Ipv6(_)), Some(Layer::Raw(load))) = (p.layers.first(), p.layers.get(1)) else {
        return Err(not_frag());
    };
    if p.to_bytes().get(6) != Some(&fragment::NH_FRAGMENT) {
        return Err(not_frag());
    }
    let mut h = Frag6::parse(load).ok_or_else(not_frag)?;
    if offset.is_none() && m.is_none() && id.is_none() && nh.is_none() {
        return Ok(Value::dict(vec![
            ("nh", Value::Int(i64::from(h.nh))),
            ("offset", Value::Int(i64::from(h.offset))),
            ("m", Value::Bool(h.m)),
            ("id", Value::Int(i64::from(h.id))),
        ]));
    }
    let range = |v: i64, max: i64, name: &str| {
        if (0..=max).contains(&v) {
            Ok(v)
        } else {
            Err(a.err(format!("frag6(): {name} must be 0..={max}, not {v}")))
        }
    };
    if let Some(o) = offset {
        h.offset = range(o, 0x1fff, "offset")? as u16;
    }
    if let Some(m) = m {
        h.m = m;
    }
    if let Some(i) = id {
        h.id = range(i, i64::from(u32::MAX), "id")? as u32;
    }
    if let Some(n) = nh {
        h.nh = range(n, 255, "nh")? as u8;
    }
    let mut q = p.clone();
    if let Some(Layer::Raw(l)) = q.layers.get_mut(1) {
        l[..fragment::FRAG6_LEN].copy_from_slice(&h.bytes());
    }
    Ok(Value::packet(q))
}

/// For `sr`: the datagram each group of fragments makes (to match answers against), and
/// the fragments to send for it. Packets that are no fragments are their own datagram.
/// Groups keep the position of their first fragment.
pub fn datagrams(pkts: &[Packet]) -> Vec<(Packet, Vec<Packet>)> {
    if !pkts.iter().any(fragment::is_fragment) {
        return pkts.iter().map(|p| (p.clone(), Vec::new())).collect();
    }
    let mut out: Vec<(Packet, Vec<Packet>)> = Vec::new();
    let mut group_of: Vec<(Packet, usize)> = Vec::new();
    for p in pkts {
        if !fragment::is_fragment(p) {
            out.push((p.clone(), Vec::new()));
            continue;
        }
        // Same datagram: same header fields that key reassembly.
        let key = fragment_key(p);
        match group_of.iter().find(|(k, _)| fragment_key(k) == key) {
            Some((_, i)) => out[*i].1.push(p.clone()),
            None => {
                group_of.push((p.clone(), out.len()));
                out.push((p.clone(), vec![p.clone()]));
            }
        }
    }
    for (whole, frags) in &mut out {
        if frags.is_empty() {
            continue;
        }
        // Matched as the receiver will see it; overlaps resolved as "last" so that a
        // datagram the kernel would drop still has something to be matched against.
        let d = fragment::defragment(frags, Overlap::Last);
        if let Some(w) = d.packets.into_iter().next() {
            *whole = w;
        }
    }
    out
}

fn fragment_key(p: &Packet) -> Option<(String, String, u32)> {
    if let Some(ip) = p.ipv4() {
        return Some((
            format!("{:?}", ip.src),
            ip.dst.to_string(),
            u32::from(ip.id),
        ));
    }
    let ip = p.ipv6()?;
    let b = p.to_bytes();
    let fh = Frag6::parse(b.get(crate::packet::ipv6::HEADER_LEN..)?)?;
    Some((format!("{:?}", ip.src), ip.dst.to_string(), fh.id))
}

/// `sr` of a list that may hold fragments: each datagram's fragments go out as given,
/// and answers are matched against the datagram they make.
pub fn sr(
    it: &mut Interp,
    pkts: &[Packet],
    opts: &super::net::SrOpts,
) -> std::result::Result<super::net::SrResult, super::net::NetError> {
    if !pkts.iter().any(fragment::is_fragment) {
        return it.net.sr(pkts, opts);
    }
    it.net.sr_datagrams(&datagrams(pkts), opts)
}

/// `sr1` of the fragments of one datagram: its answer (a reply or none). `None` when
/// `pkts` is not that (sr1 goes on as usual).
pub fn sr1(
    it: &mut Interp,
    pkts: &[Packet],
    opts: &super::net::SrOpts,
) -> std::result::Result<Option<Value>, super::net::NetError> {
    if pkts.len() < 2 || !pkts.iter().all(fragment::is_fragment) {
        return Ok(None);
    }
    let groups = datagrams(pkts);
    if groups.len() != 1 {
        return Ok(None);
    }
    let r = it.net.sr_datagrams(&groups, opts)?;
    Ok(Some(
        r.answered
            .into_iter()
            .next()
            .map_or(Value::None, |x| Value::Reply(std::rc::Rc::new(x))),
    ))
}
