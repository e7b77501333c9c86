//! Arbitrary bytes as a capture file: the reader must end with a record or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpcraft::pcap::Reader;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = Reader::new(data) {
        let mut n = 0;
        while let Some(rec) = r.next_record() {
            n += 1;
            if rec.is_err() || n > 10_000 {
                break;
            }
        }
    }
});
