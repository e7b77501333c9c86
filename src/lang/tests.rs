//! Evaluator tests, and the no-panic property under untrusted limits (the same
//! harness the fuzz targets use, run on hostile inputs and on random token soup).

use super::net::DryRun;
use super::{ErrorKind, Interp, Limits, Value};
use proptest::prelude::*;

fn interp(limits: Limits) -> Interp {
    let mut it = Interp::new(
        Box::new(DryRun::new(Box::new(|_| {}))),
        Box::new(std::io::sink()),
    );
    it.limits = limits;
    it
}

fn eval(src: &str) -> Result<Value, ErrorKind> {
    let mut it = interp(Limits::default());
    match it.run_source("<t>", src, 1) {
        Ok(v) => Ok(v.unwrap_or(Value::None)),
        Err(e) => Err(e.kind),
    }
}

fn show(src: &str) -> String {
    match eval(src) {
        Ok(v) => v.repr(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn values_and_scopes() {
    assert_eq!(show("x = 2; fn f(y) { return x * y }; f(21)"), "42");
    assert_eq!(
        show("fn mk(n) { fn add(k) { return n + k }; return add }; mk(40)(2)"),
        "42"
    );
    assert_eq!(show("l = [1]; m = l; m.append(2); l"), "[1, 2]");
    assert_eq!(show("p = TCP(dport=1); q = p; q.dport = 2; p.dport"), "1");
    assert_eq!(
        show("ps = [TCP(dport=1)]; ps[0].dport = 9; ps[0].dport"),
        "9"
    );
    assert_eq!(
        show("d = {\"a\": TCP(window=1)}; d.a.window = 7; d.a.window"),
        "7"
    );
    assert_eq!(
        show("p = IP()/TCP(); p.tcp = TCP(dport=5, sport=6); p.sport"),
        "6"
    );
    assert_eq!(show("1 if"), "error: unexpected `if`");
}

#[test]
fn limits_stop_runaway_scripts() {
    let mut it = interp(Limits::untrusted());
    let e = it.run_source("<t>", "while true { }", 1).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e:?}");
    let e = it
        .run_source("<t>", "fn f() { return f() }\nf()", 1)
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e:?}");
    let e = it
        .run_source("<t>", "x = \"a\" * 100000000", 1)
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e:?}");
    let e = it.run_source("<t>", "sleep(100)", 1).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e:?}");
    let e = it
        .run_source("<t>", "TCP(dport=0..=65535, sport=0..=65535)", 1)
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e:?}");
}

/// Inputs that once were (or could be) trouble; none may panic.
const HOSTILE: &[&str] = &[
    "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "-------------------------------------------------------------------------1",
    "not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not 1",
    "a = []; a.append(a); b = []; b.append(b); a == b; str(a); sorted([a, b])",
    "x = 9223372036854775807 + 1",
    "x = -9223372036854775807 - 2",
    "x = (-9223372036854775807 - 1) % -1",
    "x = (-9223372036854775807 - 1) / -1",
    "x = 2 ** 64",
    "x = 2 ** -1; y = 0 ** -1",
    "x = 1 % 0",
    "x = 1.0 % 0.0",
    "x = [1][9223372036854775807]; ",
    "x = \"abc\"[-9223372036854775807 - 1]",
    "x = b\"abc\"[1:-9223372036854775807]",
    "x = (1..9223372036854775807)[9223372036854775806]",
    "for i in -9223372036854775807..9223372036854775807 { }",
    "x = len(-9223372036854775807..9223372036854775807)",
    "x = range(0, 9223372036854775807, 4611686018427387904)",
    "format(\"{:999999999999999999999d}\", 1)",
    "f\"{1:>99999999}\"",
    "f\"{",
    "f\"{}\"",
    "x = \"\\u{110000}\"",
    "x = \"\\x\"",
    "x = 0x",
    "x = 1e999999",
    "IP(dst=\"198.18.0.0/0\")",
    "IP(dst=\"1.2.3.4/99\")",
    "TCP(options=[opt(255, b\"x\" * 300)])",
    "TCP(flags=\"\")",
    "TCP(flags=99999)",
    "IP(b\"\\x45\")",
    "IP(b\"\")/TCP()[99]",
    "p = IP()/TCP(); p[TCP].seq = 1",
    "int(\"-9223372036854775808\"); int(\"9223372036854775808\")",
    "randint(-9223372036854775807 - 1, 9223372036854775807)",
    "median([]); min([]); max()",
    "hex(-9223372036854775807 - 1)",
    "abs(-9223372036854775807 - 1)",
    "\"\".join(1)",
    "[1, 2].insert(-9223372036854775807 - 1, 0)",
    "[].pop()",
    "{\"a\": 1}.zz(1)",
    "x.y.z = 1",
    "f() = 1",
    "1 = 1",
    "include \"/etc/passwd\"",
    "break; continue; return",
    "fn f(a, a) { }",
    "fn f(a=1, b) { }",
    "print(sep=1, end=2, 1)",
    "sr1([])",
    "send(1)",
    "sniff(count=-1)",
];

#[test]
fn hostile_inputs_do_not_panic() {
    for src in HOSTILE {
        let mut it = interp(Limits::untrusted());
        if let Err(e) = it.run_source("<t>", src, 1) {
            let _ = it.render_error(&e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(prop_oneof![
        Just("x"), Just("p"), Just("="), Just("+"), Just("-"), Just("*"), Just("/"), Just("%"),
        Just("**"), Just("("), Just(")"), Just("["), Just("]"), Just("{"), Just("}"), Just(","),
        Just("."), Just(":"), Just(";"), Just("\n"), Just(".."), Just("..="), Just("=="),
        Just("in"), Just("not"), Just("if"), Just("else"), Just("for"), Just("while"), Just("fn"),
        Just("return"), Just("break"), Just("1"), Just("0"), Just("-1"), Just("\"S\""),
        Just("b\"\\x00\""), Just("f\"{x}\""), Just("IP"), Just("TCP"), Just("UDP"), Just("dport"),
        Just("flags"), Just("ttl"), Just("seq"), Just("print"), Just("len"), Just("send"),
        Just("mss"), Just("none"), Just("true"), Just("[1,2]"),
    ], 0..40)) {
        let src = toks.join(" ");
        let mut it = interp(Limits::untrusted());
        if let Err(e) = it.run_source("<t>", &src, 1) {
            let _ = it.render_error(&e);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,80}") {
        let mut it = interp(Limits::untrusted());
        if let Err(e) = it.run_source("<t>", &src, 1) {
            let _ = it.render_error(&e);
        }
    }
}

#[test]
fn replies_read_like_packets_and_unpack_as_pairs() {
    use super::net::Reply;
    use crate::packet::Packet;
    use std::rc::Rc;
    let mut it = interp(Limits::default());
    let mk = |src: &str, it: &mut Interp| {
        let v = it.run_source("<t>", src, 1).ok().flatten();
        v.and_then(|v| v.as_packet().cloned())
            .unwrap_or(Packet::new(vec![]))
    };
    let probe = mk(
        "IP(dst=\"198.18.0.2\")/TCP(sport=40000, dport=80, seq=1)",
        &mut it,
    );
    let packet = mk(
        "IP(src=\"198.18.0.2\")/TCP(sport=80, dport=40000, flags=\"SA\", seq=77, ack=2)",
        &mut it,
    );
    let r = Value::Reply(Rc::new(Reply {
        packet,
        probe,
        rtt: 0.002,
    }));
    it.set_var("r", r.clone());
    it.set_var("ans", Value::list(vec![r]));
    let v = it
        .run_source(
            "<t>",
            "out = []\nfor snd, rcv in ans { out.append([snd.seq, rcv.seq]) }\n\
             [r.flags == \"SA\", \"S\" in r.flags, r.seq, r.ack, r.sport, r.src, r.rtt, r.probe.dport, out]",
            1,
        )
        .ok()
        .flatten()
        .map(|v| v.repr());
    assert_eq!(
        v.as_deref(),
        Some("[true, true, 77, 2, 80, \"198.18.0.2\", 0.002, 80, [[1, 77]]]")
    );
}

#[test]
fn lengths_past_65535_are_an_error_not_a_clamp() {
    let e = show("IP(dst=\"198.18.0.2\") / TCP() / (\"x\" * 70000)");
    assert!(
        e.contains("IP total length would be 70040 bytes, past 65535"),
        "{e}"
    );
    let e = show("IPv6() / UDP() / (\"x\" * 65530)");
    assert!(
        e.contains("IPv6 payload length would be 65538 bytes"),
        "{e}"
    );
    // A length the user sets is theirs: the packet builds.
    assert_eq!(
        show("len(bytes(IP(len=40) / TCP() / (\"x\" * 70000)))"),
        "70040"
    );
}

#[test]
fn arp_layer_and_ip_option_builders() {
    assert_eq!(
        show("ARP(op=\"is-at\", psrc=\"198.18.0.2\", hwsrc=\"aa:bb:cc:dd:ee:ff\").summary()"),
        "\"ARP, Reply 198.18.0.2 is-at aa:bb:cc:dd:ee:ff, length 28\""
    );
    assert_eq!(show("len(bytes(ARP()))"), "28");
    assert_eq!(
        show("lsrr([\"198.18.0.3\"])"),
        "b\"\\x83\\x07\\x04\\xc6\\x12\\x00\\x03\""
    );
    let e = show("ARP(op=\"maybe\")");
    assert!(e.contains("who-has"), "{e}");
    let e = show("TCP(flags=\"SYNX\")");
    assert!(e.contains("F S R P A U E C N"), "{e}");
}
