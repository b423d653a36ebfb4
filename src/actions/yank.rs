//! Copying text to the clipboard of the terminal bpftop runs in, even over
//! SSH, with OSC 52: the terminal itself sets its clipboard.

use std::ffi::OsStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Longest base64 payload sent; many terminals drop longer OSC 52
/// sequences silently, which would look like a successful yank.
pub const MAX_BASE64_BYTES: usize = 100_000;

/// `text` as one line: every control character (C0 including '\n' and
/// '\t', DEL, C1) becomes a space, so pasting it into a shell can neither
/// run it (newline) nor inject escape sequences.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The OSC 52 sequence that sets the clipboard to `text` (sent as is: call
/// [`sanitize`] first for a single line), `ESC ] 52 ; c ; base64 BEL`. With
/// `tmux`, wrapped in tmux's passthrough (`ESC P tmux ; … ESC \`, every ESC
/// inside doubled), which tmux needs `allow-passthrough on` to forward.
/// Err (a status-bar message) when the base64 exceeds [`MAX_BASE64_BYTES`].
pub fn osc52(text: &str, tmux: bool) -> Result<String, String> {
    let payload = STANDARD.encode(text);
    if payload.len() > MAX_BASE64_BYTES {
        return Err(format!(
            "yank: {} bytes is too long for the terminal clipboard (limit {} base64 bytes)",
            text.len(),
            MAX_BASE64_BYTES
        ));
    }
    let sequence = format!("\x1b]52;c;{payload}\x07");
    if !tmux {
        return Ok(sequence);
    }
    Ok(format!(
        "\x1bPtmux;{}\x1b\\",
        sequence.replace('\x1b', "\x1b\x1b")
    ))
}

/// Whether bpftop runs inside tmux ($TMUX set and non-empty).
pub fn in_tmux() -> bool {
    tmux_from(std::env::var_os("TMUX").as_deref())
}

fn tmux_from(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn osc52_exact_bytes() {
        assert_eq!(osc52("hi", false).unwrap(), "\x1b]52;c;aGk=\x07");
        assert_eq!(
            osc52("hi", true).unwrap().as_bytes(),
            b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
        assert_eq!(osc52("", false).unwrap(), "\x1b]52;c;\x07");
    }

    #[test]
    fn payload_cannot_break_out_of_the_sequence() {
        let seq = osc52("\x1b]0;x\x07\u{9c}", false).unwrap();
        let body = &seq[7..seq.len() - 1];
        assert!(body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
    }

    #[test]
    fn sanitize_replaces_every_control_character() {
        assert_eq!(sanitize("a\x1b[31mb\x07c"), "a [31mb c");
        assert_eq!(sanitize("x\u{9b}y\u{85}z\x7f"), "x y z ");
        assert_eq!(sanitize("l1\nl2\tl3\r"), "l1 l2 l3 ");
        assert_eq!(sanitize("café ✓"), "café ✓");
    }

    #[test]
    fn size_limit_is_on_the_base64() {
        // 75 000 bytes encode to exactly 100 000 base64 bytes.
        let at_limit = "a".repeat(75_000);
        assert_eq!(osc52(&at_limit, false).unwrap().len(), 100_000 + 8);
        let over = "a".repeat(75_001);
        let err = osc52(&over, true).unwrap_err();
        assert!(err.contains("75001 bytes"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn tmux_needs_a_non_empty_value() {
        assert!(!tmux_from(None));
        assert!(!tmux_from(Some(OsStr::new(""))));
        assert!(tmux_from(Some(OsStr::new("/tmp/tmux-0/default,1,0"))));
    }
}
