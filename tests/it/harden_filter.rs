//! Capture filters (compiled by libpcap) never panic, and whatever compiles is a
//! program the kernel would load (at most 4096 instructions, every jump inside it, a
//! return at the end) — the same checks as fuzz/fuzz_targets/filter.rs, run in CI over the
//! committed seeds and a few thousand generated filters (a fixed-seed generator, so a
//! failure repeats). Crashes the fuzzer finds are added to `REGRESSIONS`.

use tcpcraft::net::filter::Filter;

/// Inputs the fuzzer once crashed on (none in 6.2 million runs so far), replayed as
/// ordinary tests. (The one crash found so far, a stack overflow on a 50,000-term `or`
/// chain, is too long for the fuzzer's inputs; it is checked below.)
const REGRESSIONS: &[&[u8]] = &[];

const MAX_INSNS: usize = 4096;

/// The fuzz target's body: filter text, NUL, packet bytes.
fn check(data: &[u8]) {
    let (text, pkt) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let Ok(f) = Filter::new(&text, tcpcraft::pcap::linktype::RAW) else {
        return;
    };
    let prog = &f.program;
    assert!(
        !prog.is_empty() && prog.len() <= MAX_INSNS,
        "{text:?}: {} instructions",
        prog.len()
    );
    for (pc, ins) in prog.iter().enumerate() {
        if ins.code & 0x07 == 0x05 {
            let next = pc + 1;
            if ins.code & 0xf0 == 0 {
                assert!(next + (ins.k as usize) < prog.len(), "{text:?}: ja at {pc}");
            } else {
                assert!(
                    next + usize::from(ins.jt) < prog.len(),
                    "{text:?}: jt at {pc}"
                );
                assert!(
                    next + usize::from(ins.jf) < prog.len(),
                    "{text:?}: jf at {pc}"
                );
            }
        }
    }
    assert_eq!(
        prog[prog.len() - 1].code & 0x07,
        0x06,
        "{text:?}: ends with ret"
    );
    let _ = f.matches(pkt);
}

#[test]
fn seeds_and_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/filter");
    let mut n = 0;
    for e in std::fs::read_dir(&dir)
        .expect("fuzz/seeds/filter")
        .flatten()
    {
        check(&std::fs::read(e.path()).expect("seed"));
        n += 1;
    }
    assert!(n > 0, "no seeds in {}", dir.display());
    for r in REGRESSIONS {
        check(r);
    }
}

/// A small xorshift generator: no dependency, the same sequence every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn gen(r: &mut Rng, depth: u32) -> String {
    let words = [
        "tcp",
        "udp",
        "icmp",
        "icmp6",
        "ip",
        "ip6",
        "host",
        "net",
        "port",
        "src",
        "dst",
        "and",
        "or",
        "not",
        "(",
        ")",
        "&&",
        "||",
        "!",
        "80",
        "0",
        "65535",
        "65536",
        "-1",
        "1-",
        "198.18.0.2",
        "300.1.1.1",
        "::1",
        "::g",
        "2001:db8:198:18::/64",
        "198.18.0.0/33",
        "/",
        "foo",
        "\"",
        "",
    ];
    match r.next() % 6 {
        0 if depth < 6 => format!("({})", gen(r, depth + 1)),
        1 if depth < 6 => format!("{} and {}", gen(r, depth + 1), gen(r, depth + 1)),
        2 if depth < 6 => format!("not {}", gen(r, depth + 1)),
        3 if depth < 6 => format!("{} or {}", gen(r, depth + 1), gen(r, depth + 1)),
        _ => {
            let n = 1 + r.next() % 4;
            (0..n).map(|_| r.pick(&words)).collect::<Vec<_>>().join(" ")
        }
    }
}

#[test]
fn generated_filters_never_panic() {
    let mut r = Rng(0x7463_7266_6861_7264);
    // A SYN from 198.18.0.1:40000 to 198.18.0.2:80, as a packet for the programs to run on.
    let pkt: [u8; 40] = [
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, 0x9c, 0x40, 0,
        80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
    ];
    for _ in 0..5000 {
        let text = gen(&mut r, 0);
        let mut data = text.into_bytes();
        data.push(0);
        let cut = (r.next() % (pkt.len() as u64 + 1)) as usize;
        data.extend_from_slice(&pkt[..cut]);
        check(&data);
    }
    // Deep nesting and long chains end in a clear error, not a stack overflow.
    for text in [
        "(".repeat(100_000),
        "not ".repeat(100_000) + "tcp",
        vec!["port 1"; 3000].join(" or "),
        // Overflowed the stack before the filter parser counted its terms.
        vec!["port 1"; 50_000].join(" or "),
        vec!["tcp"; 50_000].join(" and "),
    ] {
        let Err(e) = Filter::new(&text, tcpcraft::pcap::linktype::RAW) else {
            panic!("refused")
        };
        assert!(!e.to_string().is_empty());
    }
}
