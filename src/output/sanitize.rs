//! Making process-controlled bytes safe to print.

/// Bytes as text: invalid UTF-8 becomes U+FFFD and control characters
/// (C0, DEL, C1 — which include ESC and BEL) become '?', as ps(1) does, so a
/// process name can never move the cursor or retitle a terminal.
pub fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_invalid_utf8_are_neutralised() {
        assert_eq!(printable(b"a\x1b]0;pwn\x07b"), "a?]0;pwn?b");
        assert_eq!(printable(b"caf\xc3\xa9 \xff"), "café \u{fffd}");
        assert_eq!(printable("x\u{9b}y".as_bytes()), "x?y");
        assert_eq!(printable(b"tab\there"), "tab?here");
    }
}
