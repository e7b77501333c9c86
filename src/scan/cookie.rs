//! Stateless reply validation: a keyed SipHash-2-4 of the probe's addresses and ports
//! goes into the SYN's sequence number (and, for UDP, into the source port), so a reply is
//! accepted only if it carries what only our probe could have told it (`ack == cookie+1`
//! for SYN-ACK and RST-ACK). No table of sent probes is needed, and forged or stale
//! packets on the wire are ignored.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;

/// A 128-bit key, random per scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key(pub u64, pub u64);

impl Key {
    /// A fresh random key (std's per-process random hasher seeds, mixed twice).
    pub fn random() -> Key {
        let a = RandomState::new().build_hasher().finish();
        let mut h = RandomState::new().build_hasher();
        h.write_u64(a);
        Key(a, h.finish())
    }
}

#[inline]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of whole 64-bit words (the message length is fixed by the caller, so
/// the words are hashed as if they were `8·len` bytes; see the test vector).
pub fn siphash(key: Key, words: &[u64]) -> u64 {
    let mut v = [
        key.0 ^ 0x736f_6d65_7073_6575,
        key.1 ^ 0x646f_7261_6e64_6f6d,
        key.0 ^ 0x6c79_6765_6e65_7261,
        key.1 ^ 0x7465_6462_7974_6573,
    ];
    for &m in words {
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let b: u64 = ((words.len() as u64 * 8) & 0xff) << 56;
    v[3] ^= b;
    round(&mut v);
    round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn words(a: IpAddr) -> (u64, u64) {
    match a {
        IpAddr::V4(v) => (u64::from(u32::from(v)), 0x4),
        IpAddr::V6(v) => {
            let n = u128::from(v);
            ((n >> 64) as u64, n as u64)
        }
    }
}

/// The cookie for one probe: our address, the target's address and port, and the
/// protocol (so a TCP cookie never validates a UDP reply).
pub fn cookie(key: Key, src: IpAddr, dst: IpAddr, dport: u16, proto: u8) -> u32 {
    let tail = u64::from(dport) | u64::from(proto) << 16;
    match (src, dst) {
        // Two words for IPv4 (this runs once per probe); the message length keeps them
        // apart from the five of IPv6.
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let pair = u64::from(u32::from(s)) << 32 | u64::from(u32::from(d));
            siphash(key, &[pair, tail]) as u32
        }
        _ => {
            let (s0, s1) = words(src);
            let (d0, d1) = words(dst);
            siphash(key, &[s0, s1, d0, d1, tail]) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_reference_vector() {
        // The SipHash paper's key 00..0f and message 00..0f (16 bytes) → a345...
        // (little-endian words), output 0x3f2acc7f57c29bdb.
        let key = Key(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let m = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        assert_eq!(siphash(key, &m), 0x3f2a_cc7f_57c2_9bdb);
    }

    #[test]
    fn cookies_depend_on_every_input() {
        let k = Key(1, 2);
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        let c = cookie(k, a, b, 80, 6);
        assert_eq!(c, cookie(k, a, b, 80, 6));
        assert_ne!(c, cookie(k, a, b, 81, 6));
        assert_ne!(c, cookie(k, b, a, 80, 6));
        assert_ne!(c, cookie(k, a, b, 80, 17));
        assert_ne!(c, cookie(Key(1, 3), a, b, 80, 6));
        assert_ne!(Key::random(), Key::random());
    }
}
