//! Text for terminal cells: process-controlled bytes made harmless, and
//! strings cut and padded by display width (columns), not by chars or bytes.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::present::sanitize::printable;

const ZWJ: char = '\u{200d}';

/// Bytes as safe text: control characters (ESC, BEL, C1, …) become '?',
/// invalid UTF-8 becomes U+FFFD.
pub fn display_safe(bytes: &[u8]) -> String {
    printable(bytes)
}

/// Display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut and padded to exactly `width` columns. A wide character that
/// would straddle the edge is dropped and replaced by a space; combining and
/// other zero-width characters stay with the character they follow.
pub fn fit(s: &str, width: usize, align_right: bool) -> String {
    let kept = &s[..fitting_prefix(s, width)];
    let pad = width.saturating_sub(self::width(kept));
    let mut out = String::with_capacity(kept.len() + pad);
    if align_right {
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(kept);
    } else {
        out.push_str(kept);
        out.extend(std::iter::repeat_n(' ', pad));
    }
    out
}

/// `s` without its first `skip` columns: what shows of it when the start
/// is scrolled off the left edge. A wide character cut by the edge becomes
/// a space.
pub fn skip_columns(s: &str, skip: usize) -> String {
    let mut used = 0;
    let mut start = 0;
    while start < s.len() && used < skip {
        let end = cluster_end(s, start);
        used += self::width(s.get(start..end).unwrap_or(""));
        start = end;
    }
    let rest = s.get(start..).unwrap_or("");
    let mut out = " ".repeat(used.saturating_sub(skip));
    out.push_str(rest);
    out
}

/// `words` in lines of at most `width` columns: words separated by a space
/// while they fit, a word wider than a line cut into pieces (the whole
/// command line in `w`, one argument per word).
pub fn wrap_words(words: &[String], width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words {
        let w = self::width(word);
        let used = self::width(&line);
        if !line.is_empty() && used + 1 + w <= width {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.as_str();
        while self::width(rest) > width {
            let mut cut = fitting_prefix(rest, width);
            if cut == 0 {
                // A character wider than the line: alone on its line.
                cut = cluster_end(rest, 0);
            }
            lines.push(rest.get(..cut).unwrap_or("").to_owned());
            rest = rest.get(cut..).unwrap_or("");
        }
        line.push_str(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Byte length of the longest prefix of whole clusters that fits in
/// `width` columns.
fn fitting_prefix(s: &str, width: usize) -> usize {
    let mut used = 0;
    let mut start = 0;
    while start < s.len() {
        let end = cluster_end(s, start);
        let w = self::width(s.get(start..end).unwrap_or(""));
        if used + w > width {
            break;
        }
        used += w;
        start = end;
    }
    start
}

/// End (byte offset) of the cluster starting at `start`: one character plus
/// what renders with it — zero-width marks, and whatever a ZWJ joins on, so
/// that an emoji sequence is kept or dropped whole.
fn cluster_end(s: &str, start: usize) -> usize {
    let rest = s.get(start..).unwrap_or("");
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return start;
    };
    let mut joined = first == ZWJ;
    let mut end = first.len_utf8();
    for (i, c) in chars {
        let zero = c.width().unwrap_or(0) == 0;
        if !(zero || joined || is_emoji_modifier(c)) {
            break;
        }
        joined = c == ZWJ;
        end = i + c.len_utf8();
    }
    start + end
}

/// Skin-tone modifiers render inside the emoji before them.
fn is_emoji_modifier(c: char) -> bool {
    ('\u{1f3fb}'..='\u{1f3ff}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_bytes_are_neutralised() {
        assert_eq!(display_safe(b"a\x1b[2Jb\x07"), "a?[2Jb?");
        assert_eq!(display_safe(b"x\xffy"), "x\u{fffd}y");
        assert_eq!(display_safe("c\u{9b}d".as_bytes()), "c?d");
    }

    #[test]
    fn scrolled_text_loses_its_first_columns() {
        assert_eq!(skip_columns("abcdef", 0), "abcdef");
        assert_eq!(skip_columns("abcdef", 2), "cdef");
        assert_eq!(skip_columns("abc", 5), "");
        assert_eq!(skip_columns("名前x", 1), " 前x");
        assert_eq!(skip_columns("名前x", 2), "前x");
    }

    #[test]
    fn words_wrap_at_their_boundaries() {
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            wrap_words(&words("/usr/bin/java -Xmx4g -jar app.jar"), 16),
            ["/usr/bin/java", "-Xmx4g -jar", "app.jar"]
        );
        assert_eq!(
            wrap_words(&words("abcdefghij xy"), 4),
            ["abcd", "efgh", "ij", "xy"]
        );
        assert_eq!(wrap_words(&words("ab 名前"), 3), ["ab", "名", "前"]);
        assert_eq!(wrap_words(&[], 10), [""]);
        for w in 1..12 {
            for line in wrap_words(&words("a bb ccc dddd eeeee 名前名前 ffffff"), w) {
                assert!(width(&line) <= w.max(2), "{w}: {line:?}");
            }
        }
    }

    #[test]
    fn width_counts_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("名前"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("🦀"), 2);
    }

    #[test]
    fn ascii_is_cut_and_padded() {
        assert_eq!(fit("abcdef", 4, false), "abcd");
        assert_eq!(fit("ab", 4, false), "ab  ");
        assert_eq!(fit("ab", 4, true), "  ab");
        assert_eq!(fit("abcdef", 0, true), "");
        assert_eq!(fit("", 3, false), "   ");
    }

    #[test]
    fn a_wide_char_is_never_split() {
        // 名 and 前 take two columns each: the third column gets a space.
        assert_eq!(fit("名前x", 3, false), "名 ");
        assert_eq!(fit("名前x", 3, true), " 名");
        assert_eq!(fit("名前x", 4, false), "名前");
        assert_eq!(fit("名前x", 5, false), "名前x");
        assert_eq!(fit("a名", 2, false), "a ");
    }

    #[test]
    fn combining_marks_stay_attached() {
        // "é" as e + U+0301: one column, two chars.
        let s = "e\u{301}e\u{301}e\u{301}";
        assert_eq!(fit(s, 2, false), "e\u{301}e\u{301}");
        assert_eq!(fit(s, 1, false), "e\u{301}");
        assert_eq!(fit(s, 4, true), " e\u{301}e\u{301}e\u{301}");
    }

    #[test]
    fn emoji_are_kept_or_dropped_whole() {
        assert_eq!(fit("🦀🦀", 3, false), "🦀 ");
        // Thumbs up with a skin tone: one two-column glyph.
        let thumb = "\u{1f44d}\u{1f3fd}";
        assert_eq!(fit(&format!("{thumb}z"), 2, false), thumb);
        assert_eq!(fit(thumb, 1, false), " ");
        // A ZWJ family is a single two-column glyph, never cut inside.
        let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}";
        assert_eq!(fit(&format!("{family}ab"), 3, false), format!("{family}a"));
        assert_eq!(fit(family, 1, false), " ");
    }

    #[test]
    fn the_result_is_always_exactly_as_wide_as_asked() {
        let samples = [
            "plain",
            "名前 and ｗｉｄｅ",
            "e\u{301}\u{302} x",
            "🦀\u{fe0f}crab",
            "",
        ];
        for s in samples {
            for w in 0..16 {
                for right in [false, true] {
                    let out = fit(s, w, right);
                    assert_eq!(width(&out), w, "{s:?} at {w}");
                    assert!(s.starts_with(out.trim_matches(' ')) || out.trim().is_empty());
                }
            }
        }
    }
}
