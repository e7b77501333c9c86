//! Where probes leave: the scan's routes, looked up once per host (or per /24 and /64
//! for large scans) with their next hops' link addresses, and the source ports it
//! sends from.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::targets::Targets;
use super::ScanError;
use crate::net::batch::Egress;

/// Where probes to one host (or prefix) leave.
pub(super) type Slot = Egress;

/// Slots by host or prefix: looked up once per probe, so a fast hash (the keys are our
/// own targets, not an attacker's).
pub(super) type Slots = std::collections::HashMap<IpAddr, Arc<Slot>, foldhash::fast::FixedState>;

/// Above this many hosts, routes are looked up per /24 (IPv4) or /64 (IPv6).
pub(super) const PER_HOST_ROUTES: u64 = 4096;

/// The key of `host`'s slot: the host itself, or its /24 or /64.
pub(super) fn route_key(host: IpAddr, per_host: bool) -> IpAddr {
    if per_host {
        return host;
    }
    match host {
        IpAddr::V4(v) => IpAddr::V4((u32::from(v) & 0xffff_ff00).into()),
        IpAddr::V6(v) => IpAddr::V6((u128::from(v) & !0xffff_ffff_ffff_ffffu128).into()),
    }
}

/// Every target's slot, and our own addresses toward them. Probes go out over AF_PACKET
/// where the next hop's link address is known; the kernel is asked to resolve the
/// missing next hops all at once and given up to 300 ms; those still unresolved go by
/// raw IP socket (the kernel keeps trying).
pub(super) fn resolve(
    targets: &Targets,
    iface: Option<&str>,
) -> Result<(Slots, Vec<IpAddr>), ScanError> {
    let per_host = targets.len() <= PER_HOST_ROUTES;
    let mut slots = Slots::default();
    let mut ours: Vec<IpAddr> = Vec::new();
    let mut unresolved: Vec<(IpAddr, Slot)> = Vec::new();
    let mut seen = HashSet::new();
    for host in targets.iter() {
        let key = route_key(host, per_host);
        if !seen.insert(key) {
            continue;
        }
        let (slot, resolve) = Egress::resolve(host, iface)
            .map_err(|e| ScanError::System(format!("no route to {host}: {e}")))?;
        if !ours.contains(&slot.route.src) {
            ours.push(slot.route.src);
        }
        // A next hop shared by a prefix (a gateway) or a single host's own address.
        let own_hop = slot.route.next_hop == host;
        if resolve && (per_host || !own_hop) {
            unresolved.push((key, slot));
        } else {
            slots.insert(key, Arc::new(slot));
        }
    }
    for (_, s) in &unresolved {
        let _ = s.poke_neighbour();
    }
    let deadline = Instant::now() + Duration::from_millis(300);
    while !unresolved.is_empty() {
        let mut left = Vec::new();
        for (key, mut s) in unresolved {
            if s.find_link().unwrap_or(false) || Instant::now() >= deadline {
                slots.insert(key, Arc::new(s));
            } else {
                left.push((key, s));
            }
        }
        unresolved = left;
        if !unresolved.is_empty() {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
    Ok((slots, ours))
}

/// The interfaces probes leave by (for the reply filter), sorted.
pub(super) fn devices(slots: &Slots) -> Vec<String> {
    let mut devices: Vec<String> = slots.values().map(|s| s.route.ifname.clone()).collect();
    devices.sort();
    devices.dedup();
    devices
}

/// The interfaces that take whole Ethernet frames (each sender thread opens a frame
/// sender on each), sorted.
pub(super) fn frame_interfaces(slots: &Slots) -> Vec<u32> {
    let mut ifindexes: Vec<u32> = slots
        .values()
        .filter(|s| s.whole_frames())
        .map(|s| s.route.ifindex)
        .collect();
    ifindexes.sort_unstable();
    ifindexes.dedup();
    ifindexes
}

/// The first of `span` consecutive source ports for a scan, all outside the ephemeral
/// range `(lo, hi)`, so that no connection the kernel makes for another program shares
/// a port with the scan (whose answers the reply filter drops): above the range when
/// `span` ports fit there, else between 1024 and the range, else (a range that leaves
/// no room) just above it, as high as fits.
pub fn source_window((lo, hi): (u16, u16), span: u16, random: u64) -> u16 {
    let span = u32::from(span.max(1));
    let (lo, hi) = (u32::from(lo), u32::from(hi));
    // Window starts that keep [start, start + span) inside [from, to].
    let starts = |from: u32, to: u32| (to + 1).saturating_sub(from).saturating_sub(span - 1);
    let above = starts(hi + 1, 65535);
    let below = starts(1024, lo.saturating_sub(1));
    let start = if above > 0 && (above >= 64 || above >= below) {
        hi + 1 + (random % u64::from(above)) as u32
    } else if below > 0 {
        1024 + (random % u64::from(below)) as u32
    } else {
        65536u32.saturating_sub(span).max(1024)
    };
    u16::try_from(start).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::probe::{TCP_PORTS, UDP_PORTS};

    #[test]
    fn source_ports_stay_out_of_the_ephemeral_range() {
        for r in [0u64, 1, 77, 4535, 99_999, u64::MAX] {
            for (range, span) in [
                ((32768, 60999), TCP_PORTS),
                ((32768, 60999), UDP_PORTS),
                ((1024, 65000), TCP_PORTS),
                ((40000, 65535), UDP_PORTS),
                ((40000, 65535), TCP_PORTS),
            ] {
                let s = source_window(range, span, r);
                let end = u32::from(s) + u32::from(span) - 1;
                assert!(s >= 1024 && end <= 65535, "{range:?} {span}: {s}");
                assert!(
                    end < u32::from(range.0) || u32::from(s) > u32::from(range.1),
                    "{range:?} {span} {r}: {s}..={end} overlaps"
                );
            }
        }
        // Linux's default range: above it.
        assert!(source_window((32768, 60999), TCP_PORTS, 5) > 60999);
        // No room anywhere: the top of the port space.
        assert_eq!(source_window((1024, 65535), TCP_PORTS, 5), 65535 - 31);
    }
}
