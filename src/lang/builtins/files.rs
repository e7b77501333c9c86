//! Capture files: `wrpcap`, `rdpcap`.

use crate::lang::call::*;
use crate::lang::error::{error, ErrorKind, Result};
use crate::lang::helpers::to_packets;
use crate::packet::Packet;

const BUILTINS: &[BuiltinEntry] = &[
    ("wrpcap", "wrpcap(file, packets): write packets to a pcap file (raw IP; Ethernet when every packet is a frame), each with its p.time", wrpcap),
    ("rdpcap", "rdpcap(file): read packets from a pcap file", rdpcap),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
}

fn wrpcap(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let file = a
        .string(0, "file")?
        .ok_or_else(|| a.err("wrpcap(file, packets) needs a file name"))?;
    let v = a.require(1, "packets")?;
    a.finish(2)?;
    it.check_sandbox("wrpcap", a.span)?;
    let pkts = to_packets(&v, a.span_of(1))?;
    let recs: Vec<_> = pkts
        .iter()
        .map(|p| (crate::lang::packets::packet_time(p), p.to_bytes()))
        .collect();
    let frames = !pkts.is_empty()
        && pkts
            .iter()
            .all(|p| matches!(p.layers.first(), Some(crate::packet::Layer::Ether(_))));
    let lt = if frames {
        crate::pcap::linktype::ETHERNET
    } else {
        crate::pcap::linktype::RAW
    };
    crate::lang::net::write_pcap_as(std::path::Path::new(&file), lt, &recs)
        .map_err(|e| error(a.span, ErrorKind::Io(format!("wrpcap {file}: {e}"))))?;
    Ok(Value::Int(pkts.len() as i64))
}

fn rdpcap(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let file = a
        .string(0, "file")?
        .ok_or_else(|| a.err("rdpcap(file) needs a file name"))?;
    a.finish(1)?;
    it.check_sandbox("rdpcap", a.span)?;
    read_pcap(&file, &it.limits)
        .map_err(|m| error(a.span, ErrorKind::Io(format!("rdpcap {file}: {m}"))))
}

/// Reads a whole capture into a list, within the memory budget: a file larger than the
/// budget is refused before reading, and the heap is checked as records are read.
fn read_pcap(file: &str, limits: &Limits) -> std::result::Result<Value, String> {
    let path = std::path::Path::new(file);
    let over = || {
        format!(
            "larger than the memory budget of {} MiB (--max-memory raises it)",
            limits.max_memory >> 20
        )
    };
    let mut r = crate::pcap::Reader::open(path).map_err(|e| e.to_string())?;
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > limits.max_memory as u64 {
        return Err(over());
    }
    let mut out = Vec::new();
    while let Some(rec) = r.next_record() {
        if out.len() % 1024 == 0 && limits.heap_in_use.is_some_and(|h| h() > limits.max_memory) {
            return Err(over());
        }
        let rec = rec.map_err(|e| e.to_string())?;
        let link = crate::pcap::link_of(rec.linktype)
            .ok_or_else(|| format!("link type {} is not supported", rec.linktype))?;
        out.push(Value::packet(Packet::parse(&rec.data, link).0.at(rec.ts)));
    }
    Ok(Value::list(out))
}
