//! Arbitrary bytes read as a raw IP packet by tcpcraft and by pnet_packet (an
//! independent implementation): every header field both expose must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpcraft::packet::oracle::disagreements;

fuzz_target!(|data: &[u8]| {
    let wrong = disagreements(data);
    assert!(wrong.is_empty(), "{wrong:?}");
});
