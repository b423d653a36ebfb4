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

/// `s` with every [`is_unsafe`] character replaced by '?', as ps(1) does
/// for control characters; borrowed when there is nothing to replace.
pub fn printable_str(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_unsafe) {
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
