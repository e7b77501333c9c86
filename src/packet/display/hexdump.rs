//! Offset, hex and ASCII, 16 bytes a row (the layout of `hexdump -C`).

/// Rows of `0000  45 00 00 3c 00 01 00 00  40 06 ee 93 c6 12 00 01  E..<....@.......`:
/// the offset (four hex digits, more when the data is longer than 64 KiB), sixteen bytes
/// with an extra space after the eighth, and the bytes as ASCII with `.` for anything not
/// printable. The last row is padded so its ASCII column lines up. Every row ends with
/// `\n`; empty input gives an empty string.
pub fn hexdump(bytes: &[u8]) -> String {
    let width = if bytes.len() > 0x1_0000 {
        format!("{:x}", bytes.len() - 1).len()
    } else {
        4
    };
    let mut s = String::with_capacity(bytes.len().div_ceil(16) * (width + 70));
    for (i, row) in bytes.chunks(16).enumerate() {
        s.push_str(&format!("{:0width$x}  ", i * 16));
        let hex = hex::encode(row);
        for j in 0..16 {
            match hex.get(2 * j..2 * j + 2) {
                Some(h) => s.push_str(h),
                None => s.push_str("  "),
            }
            s.push(' ');
            if j == 7 {
                s.push(' ');
            }
        }
        s.push(' ');
        s.extend(row.iter().map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        }));
        s.push('\n');
    }
    s
}
