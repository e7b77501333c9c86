//! Golden tests for `display::hexdump`.

use tcpcraft::packet::display::hexdump;

#[test]
fn empty_is_empty() {
    assert_eq!(hexdump(&[]), "");
}

#[test]
fn one_byte_pads_the_row() {
    assert_eq!(
        hexdump(b"A"),
        "0000  41                                                A\n"
    );
}

#[test]
fn a_syn_with_options() {
    let b = hex::decode(
        "4500003c000100004006ee93c6120001c61200029c400050000003e800000000\
         a002faf0206e0000020405b40402080a000000010000000001030307",
    )
    .expect("hex");
    let want = "\
0000  45 00 00 3c 00 01 00 00  40 06 ee 93 c6 12 00 01  E..<....@.......
0010  c6 12 00 02 9c 40 00 50  00 00 03 e8 00 00 00 00  .....@.P........
0020  a0 02 fa f0 20 6e 00 00  02 04 05 b4 04 02 08 0a  .... n..........
0030  00 00 00 01 00 00 00 00  01 03 03 07              ............
";
    assert_eq!(hexdump(&b), want);
}

#[test]
fn exactly_sixteen_and_the_eighth_byte_gap() {
    let b: Vec<u8> = (0x20..0x30).collect();
    assert_eq!(
        hexdump(&b),
        "0000  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f   !\"#$%&'()*+,-./\n"
    );
    let nine: Vec<u8> = (0x61..0x6a).collect();
    assert_eq!(
        hexdump(&nine),
        "0000  61 62 63 64 65 66 67 68  69                       abcdefghi\n"
    );
}

#[test]
fn non_printable_bytes_are_dots_and_rows_align() {
    let b: Vec<u8> = (0..=255).collect();
    let s = hexdump(&b);
    let rows: Vec<&str> = s.lines().collect();
    assert_eq!(rows.len(), 16);
    assert_eq!(
        rows[7],
        "0070  70 71 72 73 74 75 76 77  78 79 7a 7b 7c 7d 7e 7f  pqrstuvwxyz{|}~."
    );
    assert_eq!(
        rows[15],
        "00f0  f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff  ................"
    );
    assert!(rows.iter().all(|r| r.len() == 72));
}

#[test]
fn offsets_widen_past_64k() {
    let b = vec![0u8; 0x10001];
    let s = hexdump(&b);
    let last = s.lines().last().expect("rows");
    assert!(last.starts_with("10000  00 "), "{last}");
    assert!(s.lines().next().expect("rows").starts_with("00000  00 "));
    // Exactly 64 KiB still fits four digits.
    let s = hexdump(&vec![0u8; 0x10000]);
    assert!(s.lines().last().expect("rows").starts_with("fff0  "));
}
