//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers (RFC 9293 §3.1,
//! RFC 8200 §8.1). Pure functions over bytes; every layer's checksum goes through here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Adds `data` as big-endian 16-bit words to a 32-bit accumulator (odd tail padded with zero).
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]))
            + u64::from(u16::from_be_bytes([c[2], c[3]]))
            + u64::from(u16::from_be_bytes([c[4], c[5]]))
            + u64::from(u16::from_be_bytes([c[6], c[7]]));
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    while acc > 0xffff_ffff {
        acc = (acc & 0xffff_ffff) + (acc >> 32);
    }
    acc as u32
}

/// Folds a 32-bit accumulator to 16 bits and takes the one's complement.
#[inline(always)]
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Adds two accumulators (end-around carry happens in `fold`).
#[inline(always)]
pub fn combine(a: u32, b: u32) -> u32 {
    let (s, c) = a.overflowing_add(b);
    s.wrapping_add(u32::from(c))
}

/// The IPv4 pseudo-header sum: src, dst, zero, protocol, upper-layer length.
#[inline(always)]
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u32) -> u32 {
    let mut acc = sum(&src.octets());
    acc = combine(acc, sum(&dst.octets()));
    combine(acc, u32::from(proto) + (len & 0xffff) + (len >> 16))
}

/// The IPv6 pseudo-header sum: src, dst, 32-bit upper-layer length, next header.
#[inline(always)]
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, len: u32) -> u32 {
    let mut acc = sum(&src.octets());
    acc = combine(acc, sum(&dst.octets()));
    combine(acc, (len >> 16) + (len & 0xffff) + u32::from(nh))
}

/// The pseudo-header sum of either family (the views' checksums take `IpAddr`s). Mixed
/// families sum both addresses as they are (no such packet exists on a wire).
#[inline(always)]
pub fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: u32) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_v4(s, d, proto, len),
        (IpAddr::V6(s), IpAddr::V6(d)) => pseudo_v6(s, d, proto, len),
        _ => {
            let a = |a: IpAddr| match a {
                IpAddr::V4(v) => sum(&v.octets()),
                IpAddr::V6(v) => sum(&v.octets()),
            };
            combine(
                combine(a(src), a(dst)),
                u32::from(proto) + (len & 0xffff) + (len >> 16),
            )
        }
    }
}

/// The checksum of `data` alone (IPv4 header, ICMPv4).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x01, 0x02, 0x03]), 0x0102 + 0x0300);
    }

    #[test]
    fn ipv4_header_checksum_verifies_to_zero() {
        let hdr = [
            0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xb1, 0xe6, 0xac, 0x10,
            0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c,
        ];
        assert_eq!(checksum(&hdr), 0);
    }
}
