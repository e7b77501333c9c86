//! Stack tests with packetdrill's precision: every expectation form of a session passes
//! on a segment that has what it names and fails on one that lacks it (options, flags,
//! lengths, timing, silence), against a real Linux server in the test bed. Also the
//! two defects of issue 12: option checks that could not fail, and sends the peer drops
//! that still moved our state.
//!
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::process::Output;

use tcpcraft::net::testbed::{Bed, BedConfig, Faults};

use crate::session_bed;
use session_bed::can_run;

/// The opening every case starts from: a handshake with timestamps, to the HTTP server.
const OPEN: &str = r#"
s = session("198.18.0.2", 80, options=[mss(1460), sackok(), ts(100, 0), nop(), wscale(7)])
s.send("S")
"#;

fn run(bed: &Bed, code: &str) -> Output {
    bed.client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--color", "never", "-c", &format!("{OPEN}{code}")])
        .output()
        .expect("tcpcraft runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn every_expectation_form_passes_on_what_it_names_and_fails_on_what_it_lacks() {
    if !can_run("session stack tests") {
        return;
    }
    let bed = Bed::up(&BedConfig {
        id: format!("stk{}", std::process::id()),
        listen: vec!["http:80".into()],
        faults: Faults::default(),
    })
    .expect("test bed");
    // (what, code after the SYN, passes?, a piece of the failure message)
    let cases: &[(&str, &str, bool, &str)] = &[
        // Options: present with their values, any order; NOPs counted.
        ("options present", r#"s.expect("SA", options=[wscale(10), mss(1460), sackok()])"#, true, ""),
        ("sack absent", r#"s.expect("SA", options=[sack(1, 2)])"#, false, "expected option sack(1, 2)"),
        ("unknown option absent", r#"s.expect("SA", options=[opt(99, b"x")])"#, false, "expected option opt(99"),
        ("two nops absent", r#"s.expect("SA", options=[nop(), nop()])"#, false, "expected option nop()"),
        ("eol absent", r#"s.expect("SA", options=[eol()])"#, false, "expected option eol()"),
        ("wrong mss", r#"s.expect("SA", options=[mss(536)])"#, false, "expected option mss(536)"),
        ("none means none", r#"s.expect("SA", options=[])"#, false, "expected options exactly [none]"),
        // Wildcards: the SYN-ACK echoes our TSval 100 with a TSval of its own.
        ("ts(any, ecr)", r#"s.expect("SA", options=[ts(any, 100), mss(any), wscale(any)])"#, true, ""),
        ("ts(any, wrong ecr)", r#"s.expect("SA", options=[ts(any, 101)])"#, false, "expected option ts(any, 101)"),
        ("exact layout", r#"s.expect("SA", options=[wscale(10), mss(1460)], exact=true)"#, false, "expected options exactly"),
        // Flags exactly: the ACK of a request carries no PSH; the answer does.
        ("exact flags pass", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\ns.expect(\"A\", exact=true)", true, ""),
        ("exact flags fail", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\ns.expect(\"A\")\ns.expect(\"A\", data=\"HTTP/1.0\", exact=true, len=8)", false, "expected flags A, got PA"),
        // Data by length, however segmented.
        ("len reached", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\nr = s.expect(\"PA\", len=104)\nassert len(r.payload) == 104", true, ""),
        ("len not reached", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\ns.expect(\"PA\", len=105, timeout=0.5)", false, "expected PA within 0.5 s"),
        // Timing: the SYN-ACK comes at once, its first retransmission about 1 s later.
        ("before", r#"s.expect("SA", before=0.5)"#, true, ""),
        ("after fails", r#"s.expect("SA", after=0.5)"#, false, "earlier than after=0.5"),
        ("retransmission timed", "s.expect(\"SA\")\ns.expect(\"SA\", strict=true, after=0.8, before=1.5, timeout=3)", true, ""),
        ("before fails", "s.expect(\"SA\")\ns.expect(\"SA\", strict=true, before=0.5, timeout=3)", false, "later than before=0.5"),
        // Relative sequence numbers, as packetdrill and tcpdump write them.
        ("relative numbers", "s.expect(\"SA\")\nt = session(\"198.18.0.2\", 80, relative=true)\nt.send(\"S\")\nt.expect(\"SA\", seq=0, ack=1)\nt.send(\"A\", seq=1, ack=1)\nt.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\nt.expect(\"A\", ack=19)\nt.expect(\"PA\", seq=1)", true, ""),
        ("relative ack wrong", "s.expect(\"SA\")\nt = session(\"198.18.0.2\", 80, relative=true)\nt.send(\"S\")\nt.expect(\"SA\", seq=0, ack=2)", false, "expected ack"),
        // Silence.
        ("expect_none passes", "s.expect(\"SA\")\ns.send(\"A\")\ns.expect_none(0.3)", true, ""),
        ("expect_none fails", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"PA\", data=\"GET / HTTP/1.0\\r\\n\\r\\n\")\ns.expect_none(0.5)", false, "expected nothing for 0.5 s, got"),
        // Timestamps: our segments echo the peer's TSval.
        ("ts echo", "r = s.expect(\"SA\")\ns.send(\"A\")\nh = s.history[-1][\"packet\"]\nassert h.tcp.options[2].value[1] == r.tcp.options[2].value[0], \"TSecr echoes the peer's TSval\"", true, ""),
        // The clock starts at the TSval our SYN gave (100), and the peer echoes it.
        ("ts clock from the SYN", "r = s.expect(\"SA\", options=[ts(any, 100)])\nassert s.peer_tsval == r.tcp.options[2].value[0]\nassert s.tsval - 100 < 1000, \"the clock went on from 100\"\ns.send(\"A\")\nh = s.history[-1][\"packet\"]\nassert h.tcp.options[2].value[0] >= 100 && h.tcp.options[2].value[0] < 1100", true, ""),
        // The window we advertise follows our window scale (64240 bytes >> 7).
        ("scaled window", "s.expect(\"SA\")\ns.send(\"A\")\nassert s.history[-1][\"packet\"].window == 501", true, ""),
        // A send the peer drops does not move our state (issue 12's second defect).
        ("dropped data", "s.expect(\"SA\")\ns.send(\"A\")\nn = s.snd_nxt\ns.send(\"P\", data=\"x\")\nassert s.snd_nxt == n, \"snd_nxt moved\"", true, ""),
        ("dropped fin", "s.expect(\"SA\")\ns.send(\"A\")\ns.send(\"FA\", ack=s.rcv_nxt + 5000)\nassert s.state == \"ESTABLISHED\", s.state", true, ""),
    ];
    let mut failures = Vec::new();
    for (what, code, passes, says) in cases {
        let out = run(&bed, code);
        let all = text(&out);
        let ok = if *passes {
            out.status.code() == Some(0)
        } else {
            out.status.code() == Some(1) && all.contains(says)
        };
        if !ok {
            failures.push(format!(
                "{what}: exit {:?}, wanted {}\n{all}",
                out.status.code(),
                if *passes {
                    "0"
                } else {
                    "1 saying the difference"
                }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
}
