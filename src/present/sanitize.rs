//! Making process-controlled text safe to print: the one definition of
//! which characters may reach a terminal as themselves.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself:
/// * control characters (C0, DEL, C1): ESC, BEL and CSI (U+009B) start
///   escape sequences that move the cursor, retitle the window or set the
///   clipboard;
/// * bidirectional embeddings, overrides, isolates and marks: they reorder
///   the rest of the row as it is drawn;
/// * invisible format characters (zero-width space and joiners, word
///   joiner, BOM, soft hyphen, interlinear annotations, tag characters) and
///   the line and paragraph separators: they hide text, and terminals
///   disagree on their width (a ZWJ emoji sequence is 2 columns by Unicode,
///   6 or more in tmux), which shifts every following column.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
        )
}

/// The first [`is_unsafe`] character of `s` and its byte offset. Printable
/// ASCII, nearly all of every name and command line, is passed over without
/// decoding characters, 16 bytes at a time (a check without a branch per
/// byte): batch output at 30 000 processes checks tens of megabytes a
/// second.
pub fn find_unsafe(s: &str) -> Option<(usize, char)> {
    let mut at = 0;
    loop {
        at += first_not_printable_ascii(&s.as_bytes()[at..])?;
        // `at` is on a character boundary: only whole characters lie before it.
        let c = s[at..].chars().next()?;
        if is_unsafe(c) {
            return Some((at, c));
        }
        at += c.len_utf8();
    }
}

/// Offset of the first byte outside ' '..='~'.
fn first_not_printable_ascii(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 16;
    let printable = |b: &u8| (b' '..=b'~').contains(b);
    // Whole blocks of printable bytes, then byte by byte from the first
    // block that is not (or from the short tail).
    let from = bytes
        .chunks_exact(BLOCK)
        .take_while(|block| block.iter().all(printable))
        .count()
        * BLOCK;
    bytes[from..]
        .iter()
        .position(|b| !printable(b))
        .map(|i| from + i)
}

/// `s` with every [`is_unsafe`] character replaced by '?', as ps(1) does
/// for control characters; borrowed when there is nothing to replace.
pub fn printable_str(s: &str) -> Cow<'_, str> {
    if find_unsafe(s).is_some() {
        Cow::Owned(
            s.chars()
                .map(|c| if is_unsafe(c) { '?' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Bytes as printable text: invalid UTF-8 becomes U+FFFD, and unsafe
/// characters '?' (see [`printable_str`]).
pub fn printable(bytes: &[u8]) -> String {
    printable_str(&String::from_utf8_lossy(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What find_unsafe must return, one character at a time.
    fn first_unsafe_by_chars(s: &str) -> Option<(usize, char)> {
        s.char_indices().find(|&(_, c)| is_unsafe(c))
    }

    #[test]
    fn the_first_unsafe_character_is_found_wherever_it_lies() {
        // Every length around the block size, an unsafe character (or a
        // safe non-ASCII one, or none) at every offset, behind ASCII or
        // multibyte text.
        for prefix in ["", "é", "日本"] {
            for len in 0..40 {
                for at in 0..=len {
                    for odd in ['\u{1b}', '\u{7f}', '\u{9b}', '\u{200b}', 'ü', 'x'] {
                        let mut s: String = prefix.to_string();
                        s.extend((0..len).map(|i| if i == at { odd } else { 'a' }));
                        assert_eq!(find_unsafe(&s), first_unsafe_by_chars(&s), "{s:?}");
                    }
                }
            }
        }
        assert_eq!(find_unsafe(&"a".repeat(33)), None);
        assert_eq!(
            find_unsafe(&format!("{}\u{1b}[2J", "a".repeat(32))),
            Some((32, '\u{1b}'))
        );
    }

    #[test]
    fn control_bytes_and_invalid_utf8_are_neutralised() {
        assert_eq!(printable(b"a\x1b]0;pwn\x07b"), "a?]0;pwn?b");
        assert_eq!(printable(b"caf\xc3\xa9 \xff"), "caf\u{e9} \u{fffd}");
        assert_eq!(printable("x\u{9b}y\u{85}".as_bytes()), "x?y?");
        assert_eq!(printable(b"tab\there\x7f"), "tab?here?");
    }

    #[test]
    fn reordering_and_invisible_characters_are_shown() {
        // Right-to-left override, isolate, zero-width space, BOM, tag.
        assert_eq!(printable_str("a\u{202e}gnp.exe"), "a?gnp.exe");
        assert_eq!(printable_str("\u{2067}x\u{2069}"), "?x?");
        assert_eq!(printable_str("ss\u{200b}hd\u{feff}"), "ss?hd?");
        assert_eq!(printable_str("flag\u{e0067}"), "flag?");
        // A ZWJ family: its members stay, the joiners are shown.
        assert_eq!(
            printable_str("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}"),
            "\u{1f468}?\u{1f469}?\u{1f467}"
        );
    }

    #[test]
    fn the_ascii_skip_finds_what_a_character_scan_finds() {
        let pieces: Vec<char> =
            "a ~\x1f\x7f\u{80}\u{9b}\u{a0}\u{e9}\u{ad}\u{200d}\u{65e5}\u{1f468}\u{e0067}\u{fffd}"
                .chars()
                .collect();
        // Every string of up to three pieces: each unsafe character at each
        // position, after ASCII and after multi-byte characters.
        for &a in &pieces {
            for &b in &pieces {
                for &c in &pieces {
                    let s = format!("{a}{b}{c}");
                    let by_chars = s.char_indices().find(|&(_, c)| is_unsafe(c));
                    assert_eq!(find_unsafe(&s), by_chars, "{s:?}");
                }
            }
        }
        assert_eq!(find_unsafe(""), None);
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in [
            "nginx: worker",
            "caf\u{e9}",
            "\u{65e5}\u{672c}",
            "e\u{301}",
            "",
        ] {
            assert!(matches!(printable_str(s), Cow::Borrowed(b) if b == s));
        }
    }
}
