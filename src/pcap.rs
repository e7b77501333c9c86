//! Capture files: pcap (micro- and nanosecond, either byte order) and pcapng (SHB, IDB,
//! EPB, SPB, OPB), read record by record; pcap written with nanosecond timestamps.
//!
//! Written here rather than taken from the pcap-file crate because that crate rejects
//! valid captures whose original length exceeds the snap length (every `tcpdump -s 96`
//! capture) and sizes buffers from untrusted headers. Nothing here panics or allocates
//! more than one record's bytes (at most [`MAX_RECORD`]) on any input.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::packet::LinkType;

/// Largest record tcpcraft reads (256 KiB, as libpcap's MAXIMUM_SNAPLEN).
pub const MAX_RECORD: u32 = 262_144;

/// Link-layer header types (tcpdump.org/linktypes.html) tcpcraft reads and writes.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    /// Old BSD raw IP numbers some tools still write.
    pub const RAW_OLD: u32 = 12;
    pub const RAW_OLD2: u32 = 14;
}

/// Maps a pcap link type to how tcpcraft dissects it.
pub fn link_of(linktype: u32) -> Option<LinkType> {
    match linktype {
        linktype::ETHERNET => Some(LinkType::Ethernet),
        linktype::RAW
        | linktype::RAW_OLD
        | linktype::RAW_OLD2
        | linktype::IPV4
        | linktype::IPV6 => Some(LinkType::RawIp),
        linktype::LINUX_SLL => Some(LinkType::Sll),
        _ => None,
    }
}

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Since the Unix epoch.
    pub ts: Duration,
    /// Length on the wire (may exceed `data.len()` when the capture was truncated).
    pub orig_len: u32,
    pub linktype: u32,
    pub data: Vec<u8>,
}

/// What is wrong with a capture file, in words a user can act on.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Empty,
    BadMagic(u32),
    Truncated { record: u64, what: &'static str },
    TooBig { record: u64, len: u32 },
    Malformed { record: u64, what: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Empty => write!(f, "empty file: not a pcap or pcapng capture"),
            Error::BadMagic(m) => write!(
                f,
                "not a pcap or pcapng capture (magic number 0x{m:08x}; expected 0xa1b2c3d4, \
                 0xa1b23c4d or a pcapng section header 0x0a0d0d0a)"
            ),
            Error::Truncated { record, what } => {
                write!(f, "truncated in record {record}: {what} cut short")
            }
            Error::TooBig { record, len } => write!(
                f,
                "record {record} claims {len} bytes, more than the {MAX_RECORD}-byte limit: \
                 the file is corrupt"
            ),
            Error::Malformed { record, what } => write!(f, "record {record}: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

enum Format {
    Pcap {
        swap: bool,
        nanos: bool,
        linktype: u32,
    },
    PcapNg {
        swap: bool,
        links: Vec<(u32, u64)>, /* linktype, ticks per second */
    },
}

/// Reads records one at a time from a pcap or pcapng stream.
pub struct Reader<R: Read> {
    r: R,
    format: Format,
    count: u64,
    /// A record's buffer given back by [`Reader::recycle`], reused for the next one.
    spare: Vec<u8>,
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean end of file before any byte.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<Result<bool, usize>> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Ok(if got == 0 { Ok(false) } else { Err(got) }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(true))
}

fn u32_at(b: &[u8], at: usize, swap: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if swap {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}
fn u16_at(b: &[u8], at: usize, swap: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if swap {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

impl Reader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, Error> {
        // Regular files only: a device or FIFO named as a capture is refused, not read.
        Reader::new(BufReader::new(crate::userfile::open_regular(path)?))
    }
}

impl<R: Read> Reader<R> {
    pub fn new(mut r: R) -> Result<Self, Error> {
        let mut magic = [0u8; 4];
        match read_full(&mut r, &mut magic)? {
            Ok(true) => {}
            Ok(false) => return Err(Error::Empty),
            Err(_) => {
                return Err(Error::Truncated {
                    record: 0,
                    what: "file header",
                })
            }
        }
        let le = u32::from_le_bytes(magic);
        let format = match le {
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => {
                let swap = matches!(le, 0xd4c3_b2a1 | 0x4d3c_b2a1);
                let nanos = matches!(le, 0xa1b2_3c4d | 0x4d3c_b2a1);
                let mut h = [0u8; 20];
                if !matches!(read_full(&mut r, &mut h)?, Ok(true)) {
                    return Err(Error::Truncated {
                        record: 0,
                        what: "pcap file header",
                    });
                }
                // The link type's upper bits carry FCS flags (pcap spec §8.1): keep 16 bits.
                Format::Pcap {
                    swap,
                    nanos,
                    linktype: u32_at(&h, 16, swap) & 0xffff,
                }
            }
            0x0a0d_0d0a => {
                let mut reader = Reader {
                    spare: Vec::new(),
                    r,
                    format: Format::PcapNg {
                        swap: false,
                        links: Vec::new(),
                    },
                    count: 0,
                };
                reader.ng_section_header()?;
                return Ok(reader);
            }
            m => return Err(Error::BadMagic(u32::from_be_bytes(m.to_le_bytes()))),
        };
        Ok(Reader {
            spare: Vec::new(),
            r,
            format,
            count: 0,
        })
    }

    /// The link type of a plain pcap file (pcapng has one per interface).
    pub fn linktype(&self) -> Option<u32> {
        match &self.format {
            Format::Pcap { linktype, .. } => Some(*linktype),
            Format::PcapNg { links, .. } => links.first().map(|l| l.0),
        }
    }

    /// Reads a pcapng section header body (after its 4-byte type, already consumed).
    fn ng_section_header(&mut self) -> Result<(), Error> {
        let mut h = [0u8; 8];
        if !matches!(read_full(&mut self.r, &mut h)?, Ok(true)) {
            return Err(Error::Truncated {
                record: self.count,
                what: "pcapng section header",
            });
        }
        let swap = match u32::from_le_bytes([h[4], h[5], h[6], h[7]]) {
            0x1a2b_3c4d => false,
            0x4d3c_2b1a => true,
            _ => {
                return Err(Error::Malformed {
                    record: self.count,
                    what: "pcapng byte-order magic is neither 0x1a2b3c4d nor swapped".into(),
                })
            }
        };
        let total = u32_at(&h, 0, swap);
        self.skip_block_rest(total, 12)?;
        self.format = Format::PcapNg {
            swap,
            links: Vec::new(),
        };
        Ok(())
    }

    fn skip_block_rest(&mut self, total: u32, read: u32) -> Result<(), Error> {
        if total < read + 4 || total > MAX_RECORD + 64 || total % 4 != 0 {
            return Err(Error::Malformed {
                record: self.count,
                what: format!("pcapng block length {total} is invalid"),
            });
        }
        let mut rest = vec![0u8; (total - read) as usize];
        if !matches!(read_full(&mut self.r, &mut rest)?, Ok(true)) {
            return Err(Error::Truncated {
                record: self.count,
                what: "pcapng block",
            });
        }
        Ok(())
    }

    /// Reads a record or block header. `Err(None)`: a clean end of file before it;
    /// `Err(Some(error))`: an I/O error or a header cut short.
    fn header(
        &mut self,
        buf: &mut [u8],
        record: u64,
        what: &'static str,
    ) -> Result<(), Option<Result<Record, Error>>> {
        match read_full(&mut self.r, buf) {
            Err(e) => Err(Some(Err(e.into()))),
            Ok(Ok(false)) => Err(None),
            Ok(Err(_)) => Err(Some(Err(Error::Truncated { record, what }))),
            Ok(Ok(true)) => Ok(()),
        }
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<Record, Error>> {
        match self.format {
            Format::Pcap {
                swap,
                nanos,
                linktype,
            } => self.next_pcap(swap, nanos, linktype),
            Format::PcapNg { .. } => self.next_ng(),
        }
    }

    /// Gives a record's bytes back so that the next pcap record reuses the buffer (a
    /// loop over millions of records then allocates once).
    pub fn recycle(&mut self, data: Vec<u8>) {
        self.spare = data;
    }

    fn next_pcap(
        &mut self,
        swap: bool,
        nanos: bool,
        linktype: u32,
    ) -> Option<Result<Record, Error>> {
        let mut h = [0u8; 16];
        let record = self.count + 1;
        if let Err(end) = self.header(&mut h, record, "record header") {
            return end;
        }
        let (sec, frac) = (u32_at(&h, 0, swap), u32_at(&h, 4, swap));
        let (incl, orig) = (u32_at(&h, 8, swap), u32_at(&h, 12, swap));
        if incl > MAX_RECORD {
            return Some(Err(Error::TooBig { record, len: incl }));
        }
        let mut data = std::mem::take(&mut self.spare);
        data.clear();
        data.resize(incl as usize, 0);
        match read_full(&mut self.r, &mut data) {
            Err(e) => return Some(Err(e.into())),
            Ok(Ok(true)) => {}
            Ok(_) if incl == 0 => {}
            Ok(_) => {
                return Some(Err(Error::Truncated {
                    record,
                    what: "packet data",
                }))
            }
        }
        self.count = record;
        let nanos = if nanos {
            frac.min(999_999_999)
        } else {
            frac.min(999_999).saturating_mul(1000)
        };
        Some(Ok(Record {
            ts: Duration::new(u64::from(sec), nanos),
            orig_len: orig,
            linktype,
            data,
        }))
    }

    fn next_ng(&mut self) -> Option<Result<Record, Error>> {
        loop {
            let Format::PcapNg { swap, .. } = self.format else {
                return None;
            };
            let record = self.count + 1;
            let mut h = [0u8; 8];
            if let Err(end) = self.header(&mut h, record, "block header") {
                return end;
            }
            let btype = u32_at(&h, 0, swap);
            if btype == 0x0a0d_0d0a {
                // A new section: its byte order may differ; re-read the header.
                let mut bom = [0u8; 4];
                if !matches!(read_full(&mut self.r, &mut bom), Ok(Ok(true))) {
                    return Some(Err(Error::Truncated {
                        record,
                        what: "section header",
                    }));
                }
                let swap = match u32::from_le_bytes(bom) {
                    0x1a2b_3c4d => false,
                    0x4d3c_2b1a => true,
                    _ => {
                        return Some(Err(Error::Malformed {
                            record,
                            what: "pcapng byte-order magic".into(),
                        }))
                    }
                };
                let total = u32_at(&h, 4, swap);
                self.format = Format::PcapNg {
                    swap,
                    links: Vec::new(),
                };
                if let Err(e) = self.skip_block_rest(total, 12) {
                    return Some(Err(e));
                }
                continue;
            }
            let total = u32_at(&h, 4, swap);
            if total < 12 || total % 4 != 0 || total > MAX_RECORD + 256 {
                return Some(Err(Error::Malformed {
                    record,
                    what: format!("pcapng block length {total} is invalid"),
                }));
            }
            let mut body = vec![0u8; (total - 8) as usize];
            match read_full(&mut self.r, &mut body) {
                Err(e) => return Some(Err(e.into())),
                Ok(Ok(true)) => {}
                Ok(_) => {
                    return Some(Err(Error::Truncated {
                        record,
                        what: "pcapng block",
                    }))
                }
            }
            let body = &body[..body.len() - 4]; // trailing total length
            match btype {
                1 => {
                    // Interface description: linktype(2) reserved(2) snaplen(4) options.
                    if body.len() < 8 {
                        return Some(Err(Error::Malformed {
                            record,
                            what: "short IDB".into(),
                        }));
                    }
                    let lt = u32::from(u16_at(body, 0, swap));
                    let tsres = ng_tsresol(&body[8..], swap);
                    if let Format::PcapNg { links, .. } = &mut self.format {
                        links.push((lt, tsres));
                    }
                }
                6 | 2 => {
                    // Enhanced packet (6) / obsolete packet (2): iface, ts hi, ts lo, caplen, len.
                    if body.len() < 20 {
                        return Some(Err(Error::Malformed {
                            record,
                            what: "short packet block".into(),
                        }));
                    }
                    let iface = if btype == 6 {
                        u32_at(body, 0, swap) as usize
                    } else {
                        usize::from(u16_at(body, 0, swap))
                    };
                    let ts =
                        (u64::from(u32_at(body, 4, swap)) << 32) | u64::from(u32_at(body, 8, swap));
                    let cap = u32_at(body, 12, swap) as usize;
                    let orig = u32_at(body, 16, swap);
                    let Some(data) = body.get(20..20 + cap) else {
                        return Some(Err(Error::Truncated {
                            record,
                            what: "packet data",
                        }));
                    };
                    let Format::PcapNg { links, .. } = &self.format else {
                        return None;
                    };
                    let Some(&(lt, per_sec)) = links.get(iface) else {
                        return Some(Err(Error::Malformed {
                            record,
                            what: format!("packet on interface {iface}, which was never described"),
                        }));
                    };
                    self.count = record;
                    let per_sec = per_sec.max(1);
                    let secs = ts / per_sec;
                    let nanos =
                        ((ts % per_sec) as u128 * 1_000_000_000 / u128::from(per_sec)) as u32;
                    return Some(Ok(Record {
                        ts: Duration::new(secs, nanos),
                        orig_len: orig,
                        linktype: lt,
                        data: data.to_vec(),
                    }));
                }
                3 => {
                    // Simple packet: original length, data; interface 0.
                    if body.len() < 4 {
                        return Some(Err(Error::Malformed {
                            record,
                            what: "short SPB".into(),
                        }));
                    }
                    let orig = u32_at(body, 0, swap);
                    let Format::PcapNg { links, .. } = &self.format else {
                        return None;
                    };
                    let lt = links.first().map_or(linktype::ETHERNET, |l| l.0);
                    let n = (orig as usize).min(body.len() - 4);
                    self.count = record;
                    return Some(Ok(Record {
                        ts: Duration::ZERO,
                        orig_len: orig,
                        linktype: lt,
                        data: body[4..4 + n].to_vec(),
                    }));
                }
                _ => {} // statistics, name resolution, custom blocks: skipped
            }
        }
    }
}

/// Ticks per second from an IDB's options (if_tsresol, code 9); default microseconds.
fn ng_tsresol(mut opts: &[u8], swap: bool) -> u64 {
    while opts.len() >= 4 {
        let code = u16_at(opts, 0, swap);
        let len = usize::from(u16_at(opts, 2, swap));
        let padded = len.div_ceil(4) * 4;
        if code == 0 {
            break;
        }
        if code == 9 && len == 1 {
            if let Some(&v) = opts.get(4) {
                let exp = u32::from(v & 0x7f).min(19);
                return if v & 0x80 != 0 {
                    2u64.pow(exp.min(63))
                } else {
                    10u64.pow(exp)
                };
            }
        }
        opts = opts.get(4 + padded..).unwrap_or(&[]);
    }
    1_000_000
}

/// Writes a pcap file (nanosecond resolution, this machine's byte order).
pub struct Writer<W: Write> {
    w: W,
}

impl Writer<BufWriter<File>> {
    pub fn create(path: &Path, linktype: u32) -> io::Result<Self> {
        // Through userfile: never through a symbolic link or into another user's file. The
        // header goes to disk at once, so the file is a valid (empty) capture even if
        // tcpcraft is killed before the first packet is flushed.
        let mut w = Writer::new(BufWriter::new(crate::userfile::create(path)?), linktype)?;
        w.w.flush()?;
        Ok(w)
    }
}

impl<W: Write> Writer<W> {
    pub fn new(mut w: W, linktype: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&MAX_RECORD.to_le_bytes());
        h.extend_from_slice(&linktype.to_le_bytes());
        w.write_all(&h)?;
        Ok(Writer { w })
    }

    pub fn write(&mut self, ts: Duration, data: &[u8]) -> io::Result<()> {
        let n = data.len().min(MAX_RECORD as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(ts.as_secs() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&ts.subsec_nanos().to_le_bytes());
        h[8..12].copy_from_slice(&(n as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(&data[..n])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

/// One `--pcap` file that several parts of tcpcraft write at once (the engine's
/// `send`/`sr`/`sniff` and hand-driven sessions): clones share one writer, so records
/// go in the order they are written and no part truncates the file another writes.
/// Created once by the command line and handed to each part.
#[derive(Clone)]
pub struct SharedWriter(std::sync::Arc<std::sync::Mutex<Writer<BufWriter<File>>>>);

impl fmt::Debug for SharedWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedWriter")
    }
}

impl SharedWriter {
    /// Creates (truncates) `path` and writes the header (raw IP link type).
    pub fn create(path: &Path) -> io::Result<SharedWriter> {
        let w = Writer::create(path, linktype::RAW)?;
        Ok(SharedWriter(std::sync::Arc::new(std::sync::Mutex::new(w))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writer<BufWriter<File>>> {
        // A writer whose holder panicked is still a valid writer: records are whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one record (buffered; see [`SharedWriter::flush`]).
    pub fn write(&self, ts: Duration, data: &[u8]) -> io::Result<()> {
        self.lock().write(ts, data)
    }

    /// Puts every record written so far on disk, so the file stays readable whatever
    /// ends the process next (a signal, `std::process::exit`).
    pub fn flush(&self) -> io::Result<()> {
        self.lock().flush()
    }

    /// Appends one record and flushes (for callers that write one packet at a time).
    pub fn write_now(&self, ts: Duration, data: &[u8]) -> io::Result<()> {
        let mut w = self.lock();
        w.write(ts, data)?;
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), linktype::RAW).unwrap();
        w.write(Duration::new(1, 5), &[0x45, 0, 0, 20]).unwrap();
        w.write(Duration::new(2, 999_999_999), &[1, 2, 3]).unwrap();
        w.into_inner()
    }

    #[test]
    fn writes_then_reads_back() {
        let b = sample();
        let mut r = Reader::new(&b[..]).unwrap();
        assert_eq!(r.linktype(), Some(linktype::RAW));
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.ts, a.data.as_slice()),
            (Duration::new(1, 5), &[0x45, 0, 0, 20][..])
        );
        let b2 = r.next_record().unwrap().unwrap();
        assert_eq!(b2.ts, Duration::new(2, 999_999_999));
        assert!(r.next_record().is_none());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(Reader::new(&[][..]), Err(Error::Empty)));
        assert!(matches!(
            Reader::new(&b"GIF89a.................."[..]),
            Err(Error::BadMagic(_))
        ));
        assert!(matches!(
            Reader::new(&sample()[..10]),
            Err(Error::Truncated { .. })
        ));
        let b = sample();
        let mut r = Reader::new(&b[..b.len() - 1]).unwrap();
        assert!(r.next_record().unwrap().is_ok());
        let e = r.next_record().unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated in record 2: packet data cut short"
        );
        let mut huge = sample();
        huge[24 + 8..24 + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let mut r = Reader::new(&huge[..]).unwrap();
        assert!(matches!(
            r.next_record().unwrap(),
            Err(Error::TooBig { .. })
        ));
    }

    #[test]
    fn reads_microsecond_big_endian() {
        let mut b = vec![
            0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 96, 0, 0, 0, 1,
        ];
        b.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 5, 220, 0xaa, 0xbb]);
        let mut r = Reader::new(&b[..]).unwrap();
        let rec = r.next_record().unwrap().unwrap();
        // orig_len 1500 beyond snaplen 96 is a normal truncated capture, not an error.
        assert_eq!(
            (rec.ts, rec.orig_len, rec.data),
            (Duration::new(7, 9000), 1500, vec![0xaa, 0xbb])
        );
    }

    #[test]
    fn never_panics_on_prefixes_or_garbage() {
        let b = sample();
        for n in 0..b.len() {
            if let Ok(mut r) = Reader::new(&b[..n]) {
                while let Some(Ok(_)) = r.next_record() {}
            }
        }
        let mut ng = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a];
        ng.extend_from_slice(&[
            1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
        ]);
        ng.extend_from_slice(&[6, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]);
        if let Ok(mut r) = Reader::new(&ng[..]) {
            while let Some(Ok(_)) = r.next_record() {}
        }
    }
}
