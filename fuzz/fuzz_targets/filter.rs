//! Arbitrary text as a capture filter (`sniff(filter=…)`): parsing and compiling to
//! classic BPF must never panic, and whatever compiles must be a program the kernel
//! would load: at most 4096 instructions, every jump inside the program, a return at
//! the end. The compiled program then runs over the rest of the input as a packet.
//!
//! Input layout: filter text, then a NUL byte, then the packet bytes (all text if no NUL).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpcraft::net::filter::Filter;

/// BPF_MAXINSNS in the kernel.
const MAX_INSNS: usize = 4096;
/// BPF_JMP class and BPF_JA.
const JMP: u16 = 0x05;
const JA: u16 = 0x00;
const RET: u16 = 0x06;

fuzz_target!(|data: &[u8]| {
    let (text, pkt) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let Ok(f) = Filter::new(&text, tcpcraft::pcap::linktype::RAW) else {
        return;
    };
    let prog = &f.program;
    assert!(!prog.is_empty() && prog.len() <= MAX_INSNS, "{} instructions", prog.len());
    for (pc, ins) in prog.iter().enumerate() {
        if ins.code & 0x07 == JMP {
            let next = pc + 1;
            if ins.code & 0xf0 == JA {
                assert!(next + ins.k as usize <= prog.len() - 1, "ja out of the program at {pc}");
            } else {
                assert!(next + usize::from(ins.jt) < prog.len(), "jt out of the program at {pc}");
                assert!(next + usize::from(ins.jf) < prog.len(), "jf out of the program at {pc}");
            }
        }
    }
    assert_eq!(prog[prog.len() - 1].code & 0x07, RET, "the program ends with a return");
    let _ = f.matches(pkt);
});
