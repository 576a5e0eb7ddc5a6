//! Writing YAML scalars safely: the one definition of a double-quoted scalar, shared by the
//! renderer (every string from values) and the values editor (a changed tag or digest). Pure.

use std::fmt::Write as _;

/// Quote `s` as a YAML double-quoted scalar that parses back to exactly `s`.
///
/// Escaped: `\` and `"`; every line break (`\n`, `\r`, U+0085, U+2028, U+2029); every
/// character YAML does not allow raw (C0 controls except tab, DEL, C1 controls, U+FFFE,
/// U+FFFF); tab; the byte-order mark U+FEFF; and the bidirectional formatting characters
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which are legal but can make a
/// reviewed diff display something other than what is applied.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let cp = u32::from(c);
                if cp <= 0xFF {
                    let _ = write!(out, "\\x{cp:02X}");
                } else if cp <= 0xFFFF {
                    let _ = write!(out, "\\u{cp:04X}");
                } else {
                    let _ = write!(out, "\\U{cp:08X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `c` must be written as an escape sequence inside a double-quoted scalar.
fn needs_escape(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00..=0x1F
            | 0x7F..=0x9F
            | 0x061C
            | 0x200E
            | 0x200F
            | 0x2028
            | 0x2029
            | 0x202A..=0x202E
            | 0x2066..=0x2069
            | 0xFEFF
            | 0xFFFE
            | 0xFFFF
    )
}
