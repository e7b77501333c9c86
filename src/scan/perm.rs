//! A seeded random permutation of `0..n` that is walked, never stored: the cyclic
//! multiplicative group of integers modulo a prime `p > n` (zmap's construction). A
//! generator `g` and a start `s` come from the seed; the cycle is `s·g^k mod p` for
//! `k = 0..p-1`, and values past `n` are skipped.
//!
//! Sharding follows zmap: shard `i` of `N` (0-based) takes the cycle positions
//! `k ≡ i (mod N)`. Every shard must use the same seed; together the shards visit every
//! index exactly once, and no two shards share one. Inside a shard, sending threads take
//! the walk in consecutive pieces ([`Cycle::shard_range`]) as they get free.

/// A multiplicative-group permutation of `0..n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    n: u64,
    p: u64,
    g: u64,
    start: u64,
}

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    if m <= 1 << 32 {
        // Both below 2^32: the product fits, and a 64-bit remainder is several times
        // cheaper than a 128-bit one (this runs once per probe).
        (a * b) % m
    } else {
        ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64
    }
}

fn pow_mod(mut b: u64, mut e: u64, m: u64) -> u64 {
    let mut r = 1 % m;
    b %= m;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, m);
        }
        b = mul_mod(b, b, m);
        e >>= 1;
    }
    r
}

/// Deterministic Miller-Rabin for all 64-bit integers.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for p in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n % p == 0 {
            return n == p;
        }
    }
    let mut d = n - 1;
    let mut s = 0;
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    'witness: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut f = Vec::new();
    let mut d = 2u64;
    while d.saturating_mul(d) <= n {
        if n % d == 0 {
            f.push(d);
            while n % d == 0 {
                n /= d;
            }
        }
        d += if d == 2 { 1 } else { 2 };
    }
    if n > 1 {
        f.push(n);
    }
    f
}

/// SplitMix64: seed expansion (not for secrets).
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Cycle {
    /// The permutation of `0..n` for `seed`. `n` must be below 2^62.
    pub fn new(n: u64, seed: u64) -> Cycle {
        let n = n.min(1 << 62);
        // The smallest prime above n (at least 2, so the group is never empty).
        let mut p = n + 1;
        while !is_prime(p) {
            p += 1;
        }
        let mut st = seed;
        let order = p - 1;
        let factors = prime_factors(order);
        let g = if p <= 3 {
            p - 1
        } else {
            loop {
                let cand = 2 + splitmix(&mut st) % (p - 2);
                if factors.iter().all(|q| pow_mod(cand, order / q, p) != 1) {
                    break cand;
                }
            }
        };
        let start = 1 + splitmix(&mut st) % order;
        Cycle { n, p, g, start }
    }

    /// Indices in the permutation.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The walk of shard `shard` of `shards` (0-based, zmap's convention).
    pub fn shard(&self, shard: u64, shards: u64) -> Walk {
        self.shard_range(shard, shards, 0, self.shard_steps(shard, shards))
    }

    /// How many cycle positions shard `shard` of `shards` holds: k = shard, shard + N,
    /// … below the group order (some of them past `n`, skipped by the walk).
    pub fn shard_steps(&self, shard: u64, shards: u64) -> u64 {
        let shards = shards.max(1);
        let order = self.p - 1;
        if shard < order {
            (order - shard).div_ceil(shards)
        } else {
            0
        }
    }

    /// Steps `from..from + count` of shard `shard`'s walk: the same positions in the
    /// same order, so that threads can take a shard in pieces as they get free.
    pub fn shard_range(&self, shard: u64, shards: u64, from: u64, count: u64) -> Walk {
        let shards = shards.max(1);
        let steps = self.shard_steps(shard, shards);
        let from = from.min(steps);
        let first = shard.saturating_add(shards.saturating_mul(from)) % (self.p - 1).max(1);
        Walk {
            n: self.n,
            p: self.p,
            x: mul_mod(self.start, pow_mod(self.g, first, self.p), self.p),
            step: pow_mod(self.g, shards, self.p),
            left: count.min(steps - from),
        }
    }
}

/// An iterator over one shard's indices.
#[derive(Clone, Debug)]
pub struct Walk {
    n: u64,
    p: u64,
    x: u64,
    step: u64,
    left: u64,
}

impl Iterator for Walk {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.left > 0 {
            self.left -= 1;
            let v = self.x - 1;
            self.x = mul_mod(self.x, self.step, self.p);
            if v < self.n {
                return Some(v);
            }
        }
        None
    }
}

/// Parse `--shard I/N` (0 ≤ I < N, zmap's 0-based shard numbers).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard takes I/N (e.g. 0/4), not {s:?}"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard: bad shard number {i:?}"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard: bad shard count {n:?}"))?;
    if n == 0 || i >= n {
        return Err(format!(
            "--shard {s}: need 0 <= I < N (shards are numbered from 0)"
        ));
    }
    Ok((i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_a_shard_in_order() {
        for (n, shards) in [(1000u64, 1u64), (65535, 3), (10, 4), (1, 1), (100_003, 7)] {
            let c = Cycle::new(n, 42);
            for shard in 0..shards {
                let whole: Vec<u64> = c.shard(shard, shards).collect();
                let steps = c.shard_steps(shard, shards);
                let mut pieces = Vec::new();
                let mut from = 0;
                while from < steps {
                    pieces.extend(c.shard_range(shard, shards, from, 97));
                    from += 97;
                }
                assert_eq!(whole, pieces, "n {n}, shard {shard}/{shards}");
                assert_eq!(c.shard_range(shard, shards, steps + 5, 10).count(), 0);
            }
        }
    }

    #[test]
    fn mul_mod_agrees_with_wide_arithmetic() {
        for (a, b, m) in [
            (4_294_967_310u64, 4_294_967_310u64, 4_294_967_311u64),
            (123_456, 654_321, 65_537),
            (1 << 40, (1 << 40) + 3, (1u64 << 61) - 1),
        ] {
            let wide = ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64;
            assert_eq!(mul_mod(a % m, b % m, m), wide);
        }
    }

    #[test]
    fn primes() {
        let small: Vec<u64> = (0..40).filter(|&n| is_prime(n)).collect();
        assert_eq!(small, vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);
        assert!(is_prime(4_294_967_311));
        assert!(!is_prime(4_294_967_297)); // 641 × 6700417
        assert!(is_prime((1u64 << 61) - 1));
    }

    fn check_permutation(n: u64, seed: u64) {
        let c = Cycle::new(n, seed);
        let mut seen = vec![false; n as usize];
        let mut count = 0;
        for v in c.shard(0, 1) {
            assert!(!seen[v as usize], "index {v} twice");
            seen[v as usize] = true;
            count += 1;
        }
        assert_eq!(count, n);
    }

    #[test]
    fn every_index_once() {
        for n in [0, 1, 2, 3, 4, 10, 97, 1000, 65535, 65536 * 3] {
            check_permutation(n, 7);
        }
    }

    #[test]
    fn seeded_and_shuffled() {
        let a: Vec<u64> = Cycle::new(1000, 1).shard(0, 1).collect();
        let b: Vec<u64> = Cycle::new(1000, 1).shard(0, 1).collect();
        let c: Vec<u64> = Cycle::new(1000, 2).shard(0, 1).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let sorted: Vec<u64> = (0..1000).collect();
        assert_ne!(a, sorted);
    }

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        for (n, shards) in [(1u64, 3u64), (10, 4), (1000, 7), (65535, 5), (12345, 1)] {
            let c = Cycle::new(n, 42);
            let mut seen = vec![0u8; n as usize];
            for i in 0..shards {
                for v in c.shard(i, shards) {
                    seen[v as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "n={n} shards={shards}");
        }
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1").is_err());
        assert!(parse_shard("a/2").is_err());
    }
}
