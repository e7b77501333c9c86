//! Classic BPF: instruction encoding, a label-resolving assembler, and an interpreter
//! with the kernel's semantics (used by the tests and to filter packets in user space,
//! e.g. for `sniff` over a pcap file or a dry run). Pure.

use super::sys::SockFilter;

pub const LD: u16 = 0x00;
pub const LDX: u16 = 0x01;
pub const ALU: u16 = 0x04;
pub const JMP: u16 = 0x05;
pub const RET: u16 = 0x06;
pub const W: u16 = 0x00;
pub const H: u16 = 0x08;
pub const B: u16 = 0x10;
pub const ABS: u16 = 0x20;
pub const IND: u16 = 0x40;
pub const MSH: u16 = 0xa0;
pub const AND: u16 = 0x50;
pub const JEQ: u16 = 0x10;
pub const JA: u16 = 0x00;
pub const K: u16 = 0x00;

/// How many bytes of an accepted packet to keep.
pub const SNAPLEN: u32 = 262_144;

/// A jump target in an [`Asm`] program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

enum Item {
    Plain(SockFilter),
    /// A conditional jump to labels.
    Cond {
        code: u16,
        k: u32,
        t: Label,
        f: Label,
    },
    /// An unconditional jump (32-bit offset).
    Ja(Label),
}

/// An assembler with forward labels; `finish` resolves them into relative offsets.
#[derive(Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Place `l` at the next instruction.
    pub fn place(&mut self, l: Label) {
        if let Some(slot) = self.labels.get_mut(l.0) {
            *slot = Some(self.items.len());
        }
    }

    pub fn op(&mut self, code: u16, k: u32) {
        self.items.push(Item::Plain(SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    pub fn jump_if(&mut self, code: u16, k: u32, t: Label, f: Label) {
        self.items.push(Item::Cond { code, k, t, f });
    }

    pub fn ja(&mut self, l: Label) {
        self.items.push(Item::Ja(l));
    }

    /// Resolve labels. Conditional jumps reach at most 255 instructions ahead; a longer
    /// reach is routed through an unconditional jump placed right after the test.
    pub fn finish(self) -> Result<Vec<SockFilter>, String> {
        // Expand far conditional jumps: first pass decides sizes with a fixed point.
        let n = self.items.len();
        let mut extra = vec![(false, false); n]; // needs trampoline for (t, f)
        loop {
            let pos = positions(&self.items, &extra);
            let target = |l: Label| -> Result<usize, String> {
                let at = self
                    .labels
                    .get(l.0)
                    .copied()
                    .flatten()
                    .ok_or("BPF label never placed")?;
                Ok(pos.get(at).copied().unwrap_or(pos[n]))
            };
            let mut changed = false;
            for (i, it) in self.items.iter().enumerate() {
                if let Item::Cond { t, f, .. } = it {
                    let base = pos[i] + 1;
                    let tt = target(*t)?;
                    let ff = target(*f)?;
                    let (mut xt, mut xf) = extra[i];
                    if !xt && tt.saturating_sub(base) > 255 {
                        xt = true;
                    }
                    if !xf && ff.saturating_sub(base) > 255 {
                        xf = true;
                    }
                    if (xt, xf) != extra[i] {
                        extra[i] = (xt, xf);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let pos = positions(&self.items, &extra);
        let target = |l: Label| -> Result<usize, String> {
            let at = self
                .labels
                .get(l.0)
                .copied()
                .flatten()
                .ok_or("BPF label never placed")?;
            Ok(pos.get(at).copied().unwrap_or(pos[n]))
        };
        let mut out = Vec::with_capacity(pos[n]);
        for (i, it) in self.items.iter().enumerate() {
            match it {
                Item::Plain(f) => out.push(*f),
                Item::Ja(l) => {
                    let to = target(*l)?;
                    let off = to.checked_sub(pos[i] + 1).ok_or("backward BPF jump")?;
                    out.push(SockFilter {
                        code: JMP | JA,
                        jt: 0,
                        jf: 0,
                        k: off as u32,
                    });
                }
                Item::Cond { code, k, t, f } => {
                    let (xt, xf) = extra[i];
                    let tt = target(*t)?;
                    let ff = target(*f)?;
                    let base = pos[i] + 1;
                    // Trampolines follow the test: [test][ja t]?[ja f]?
                    let tramp_t = base;
                    let tramp_f = base + usize::from(xt);
                    let after = base + usize::from(xt) + usize::from(xf);
                    let jt = if xt { tramp_t } else { tt };
                    let jf = if xf { tramp_f } else { ff };
                    let rel = |to: usize| -> Result<u8, String> {
                        u8::try_from(to.checked_sub(base).ok_or("backward BPF jump")?)
                            .map_err(|_| "BPF jump out of reach".to_string())
                    };
                    out.push(SockFilter {
                        code: *code,
                        jt: rel(jt)?,
                        jf: rel(jf)?,
                        k: *k,
                    });
                    if xt {
                        let off = tt.checked_sub(tramp_t + 1).ok_or("backward BPF jump")?;
                        out.push(SockFilter {
                            code: JMP | JA,
                            jt: 0,
                            jf: 0,
                            k: off as u32,
                        });
                    }
                    if xf {
                        let off = ff.checked_sub(tramp_f + 1).ok_or("backward BPF jump")?;
                        out.push(SockFilter {
                            code: JMP | JA,
                            jt: 0,
                            jf: 0,
                            k: off as u32,
                        });
                    }
                    let _ = after;
                }
            }
        }
        if out.len() > 4096 {
            return Err(format!(
                "BPF program too long ({} instructions; the kernel takes at most 4096): \
                 use a shorter filter (fewer alternatives; `net` covers many hosts at once)",
                out.len()
            ));
        }
        Ok(out)
    }
}

fn positions(items: &[Item], extra: &[(bool, bool)]) -> Vec<usize> {
    let mut pos = Vec::with_capacity(items.len() + 1);
    let mut at = 0usize;
    for (i, it) in items.iter().enumerate() {
        pos.push(at);
        at += 1;
        if let (Item::Cond { .. }, Some((t, f))) = (it, extra.get(i)) {
            at += usize::from(*t) + usize::from(*f);
        }
    }
    pos.push(at);
    pos
}

/// The port scanner's capture filter: `proto` packets to the `span` ports from `first`
/// (the scan's source ports) and every ICMP or ICMPv6 packet (errors about its probes).
/// Packets start at the IP header (AF_PACKET SOCK_DGRAM); IPv4 fragments after the first
/// are rejected, IPv6 extension headers are not walked (scan answers carry none). The
/// scanner's own outgoing copies are skipped by the capture (PACKET_OUTGOING), and fail
/// the port test anyway.
pub fn port_window_filter(proto: u8, first: u16, span: u16) -> Result<Vec<SockFilter>, String> {
    use super::wire::{PROTO_ICMP, PROTO_ICMPV6};
    const JGT: u16 = 0x20;
    const JGE: u16 = 0x30;
    const JSET: u16 = 0x40;
    let mut a = Asm::new();
    let (accept, reject) = (a.label(), a.label());
    let (v4, v6, v4l4, port) = (a.label(), a.label(), a.label(), a.label());
    let next = |a: &mut Asm| a.label();
    a.op(LD | B | ABS, 0);
    a.op(ALU | AND | K, 0xf0);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, 0x40, v4, l);
    a.place(l);
    a.jump_if(JMP | JEQ | K, 0x60, v6, reject);
    // IPv4
    a.place(v4);
    a.op(LD | B | ABS, 9);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(PROTO_ICMP), accept, l);
    a.place(l);
    a.jump_if(JMP | JEQ | K, u32::from(proto), v4l4, reject);
    a.place(v4l4);
    a.op(LD | H | ABS, 6);
    let l = next(&mut a);
    a.jump_if(JMP | JSET | K, 0x1fff, reject, l);
    a.place(l);
    a.op(LDX | B | MSH, 0);
    a.op(LD | H | IND, 2);
    a.ja(port);
    // IPv6 (extension headers are not walked: scan answers carry none)
    a.place(v6);
    a.op(LD | B | ABS, 6);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(PROTO_ICMPV6), accept, l);
    a.place(l);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(proto), l, reject);
    a.place(l);
    a.op(LD | H | ABS, 42);
    // The destination port is in A: one of ours?
    a.place(port);
    let l = next(&mut a);
    a.jump_if(JMP | JGE | K, u32::from(first), l, reject);
    a.place(l);
    a.jump_if(
        JMP | JGT | K,
        u32::from(first) + u32::from(span) - 1,
        reject,
        accept,
    );
    a.place(accept);
    a.op(RET | K, 0xffff);
    a.place(reject);
    a.op(RET | K, 0);
    a.finish()
}

/// Run a classic BPF program over a packet, as the kernel would: the return value is how
/// many bytes to keep (0 = drop). Out-of-bounds loads end the program with 0.
pub fn run(prog: &[SockFilter], pkt: &[u8]) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let load = |at: u32, size: u16| -> Option<u32> {
        let at = at as usize;
        match size {
            W => pkt
                .get(at..at.checked_add(4)?)
                .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
            H => pkt
                .get(at..at.checked_add(2)?)
                .map(|s| u32::from(u16::from_be_bytes([s[0], s[1]]))),
            B => pkt.get(at).map(|b| u32::from(*b)),
            _ => None,
        }
    };
    for _ in 0..=prog.len() {
        let Some(ins) = prog.get(pc) else { return 0 };
        pc += 1;
        let class = ins.code & 0x07;
        let size = ins.code & 0x18;
        let mode = ins.code & 0xe0;
        match class {
            0x00 => {
                let v = match mode {
                    0x00 => Some(ins.k),
                    ABS => load(ins.k, size),
                    IND => load(x.wrapping_add(ins.k), size),
                    0x60 => mem.get(ins.k as usize).copied(),
                    0x80 => Some(pkt.len() as u32),
                    _ => None,
                };
                match v {
                    Some(v) => a = v,
                    None => return 0,
                }
            }
            0x01 => {
                let v = match mode {
                    0x00 => Some(ins.k),
                    MSH => pkt.get(ins.k as usize).map(|b| u32::from(b & 0x0f) * 4),
                    0x60 => mem.get(ins.k as usize).copied(),
                    0x80 => Some(pkt.len() as u32),
                    _ => None,
                };
                match v {
                    Some(v) => x = v,
                    None => return 0,
                }
            }
            0x02 => {
                if let Some(m) = mem.get_mut(ins.k as usize) {
                    *m = a;
                }
            }
            0x03 => {
                if let Some(m) = mem.get_mut(ins.k as usize) {
                    *m = x;
                }
            }
            0x04 => {
                let src = if ins.code & 0x08 != 0 { x } else { ins.k };
                a = match ins.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => match a.checked_div(src) {
                        Some(v) => v,
                        None => return 0,
                    },
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => match a.checked_rem(src) {
                        Some(v) => v,
                        None => return 0,
                    },
                    0xa0 => a ^ src,
                    _ => return 0,
                };
            }
            0x05 => {
                let src = if ins.code & 0x08 != 0 { x } else { ins.k };
                let op = ins.code & 0xf0;
                if op == JA {
                    pc = pc.saturating_add(ins.k as usize);
                    continue;
                }
                let cond = match op {
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return 0,
                };
                pc += usize::from(if cond { ins.jt } else { ins.jf });
            }
            0x06 => return if ins.code & 0x18 == 0x10 { a } else { ins.k },
            0x07 => {
                if ins.code & 0xf8 == 0x80 {
                    a = x;
                } else {
                    x = a;
                }
            }
            _ => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_jumps_get_trampolines() {
        let mut asm = Asm::new();
        let t = asm.label();
        let f = asm.label();
        asm.op(LD | B | ABS, 0);
        asm.jump_if(JMP | JEQ | K, 1, t, f);
        for _ in 0..300 {
            asm.op(LD | B | ABS, 0);
        }
        asm.place(t);
        asm.op(RET | K, 7);
        asm.place(f);
        asm.op(RET | K, 0);
        let prog = asm.finish().unwrap();
        assert_eq!(run(&prog, &[1]), 7);
        assert_eq!(run(&prog, &[2]), 0);
        assert_eq!(run(&prog, &[]), 0);
    }

    #[test]
    fn port_window_filter_accepts_answers_only() {
        use crate::net::wire::{PROTO_TCP, PROTO_UDP};
        // The scanner's windows: 32 TCP source ports, 1,024 UDP ones.
        let prog = port_window_filter(PROTO_TCP, 40000, 32).unwrap();
        let mut syn_ack = vec![
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1,
        ];
        syn_ack.extend_from_slice(&[
            0, 80, 0x9c, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
        ]);
        assert_ne!(run(&prog, &syn_ack), 0);
        let mut other = syn_ack.clone();
        other[22..24].copy_from_slice(&(40000u16 + 32).to_be_bytes());
        assert_eq!(run(&prog, &other), 0);
        other[22..24].copy_from_slice(&(40000u16 + 32 - 1).to_be_bytes());
        assert_ne!(run(&prog, &other), 0, "the last try's port");
        other[22..24].copy_from_slice(&39999u16.to_be_bytes());
        assert_eq!(run(&prog, &other), 0);
        let mut icmp = syn_ack.clone();
        icmp[9] = 1;
        assert_ne!(run(&prog, &icmp), 0);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
        v6.extend_from_slice(&[0; 32]);
        v6.extend_from_slice(&syn_ack[20..]);
        assert_ne!(run(&prog, &v6), 0);
        let udp = port_window_filter(PROTO_UDP, 40000, 1024).unwrap();
        let mut u = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1,
        ];
        u.extend_from_slice(&[0, 53, 0, 0, 0, 8, 0, 0]);
        u[22..24].copy_from_slice(&(40000u16 + 200).to_be_bytes());
        // 40000 + 200 is inside the cookie window; 40000 + 1024 is not.
        assert_ne!(run(&udp, &u), 0);
        u[22..24].copy_from_slice(&(40000u16 + 1024).to_be_bytes());
        assert_eq!(run(&udp, &u), 0);
        assert_eq!(run(&prog, &u), 0);
    }
}
