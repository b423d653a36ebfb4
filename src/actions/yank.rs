//! Copying text to the clipboard of the terminal bpftop runs in, even over
//! SSH, with OSC 52: the terminal itself sets its clipboard. Inside tmux,
//! the way depends on tmux's options ([`route`]), and the status line says
//! when no way is open instead of claiming a copy.

use std::ffi::OsStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub use super::tmux_clipboard::TmuxClipboard;

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

/// Where bpftop runs, as far as the clipboard is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Outside,
    /// In tmux, whose server $TMUX names.
    Tmux,
    /// $TERM names tmux but $TMUX is unset (sudo drops it): tmux is there
    /// but cannot be asked.
    TmuxUnreachable,
}

/// [`Place`] from the environment.
pub fn place() -> Place {
    place_from(
        std::env::var_os("TMUX").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn place_from(tmux: Option<&OsStr>, term: Option<&OsStr>) -> Place {
    if tmux_from(tmux) {
        Place::Tmux
    } else if term.is_some_and(|t| t.as_encoded_bytes().starts_with(b"tmux")) {
        Place::TmuxUnreachable
    } else {
        Place::Outside
    }
}

/// Which way the sequence can reach a clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Not inside tmux: the terminal itself reads the sequence.
    Terminal,
    /// tmux with `set-clipboard on`: a plain sequence, which tmux stores in
    /// its paste buffer and forwards to the terminal.
    TmuxBuffer,
    /// tmux with `allow-passthrough` on: the sequence wrapped, for the
    /// terminal outside tmux.
    TmuxPassthrough,
    /// tmux would drop the sequence either way: nothing is sent.
    Nowhere(TmuxClipboard),
    /// tmux did not say (the reason): both forms are sent, each of which
    /// tmux ignores when its option is off.
    Unknown(String),
}

/// The route, from where bpftop runs and, in a tmux it can reach, what
/// tmux says of its options (`ask` is not called otherwise).
pub fn route(place: Place, ask: impl FnOnce() -> Result<TmuxClipboard, String>) -> Route {
    match place {
        Place::Outside => return Route::Terminal,
        Place::TmuxUnreachable => return Route::Unknown("$TMUX unset".to_owned()),
        Place::Tmux => {}
    }
    match ask() {
        Ok(options) if options.stores_osc52() => Route::TmuxBuffer,
        Ok(options) if options.passthrough => Route::TmuxPassthrough,
        Ok(options) => Route::Nowhere(options),
        Err(why) => Route::Unknown(why),
    }
}

/// The bytes to write for `text` along `route` (empty for
/// [`Route::Nowhere`]); Err as [`osc52`].
pub fn sequences(text: &str, route: &Route) -> Result<String, String> {
    Ok(match route {
        Route::Terminal | Route::TmuxBuffer => osc52(text, false)?,
        Route::TmuxPassthrough => osc52(text, true)?,
        Route::Nowhere(_) => String::new(),
        Route::Unknown(_) => osc52(text, false)? + &osc52(text, true)?,
    })
}

/// What the status line says once the sequences are written: the text and
/// whether it is an error.
pub fn report(route: &Route, chars: usize) -> (String, bool) {
    match route {
        Route::Terminal => (format!("yanked {chars} characters"), false),
        Route::TmuxBuffer => (
            format!("yanked {chars} characters (tmux buffer and clipboard)"),
            false,
        ),
        Route::TmuxPassthrough => (
            format!("yanked {chars} characters (through tmux to the terminal)"),
            false,
        ),
        Route::Nowhere(options) => (
            format!(
                "not copied: tmux set-clipboard {}, allow-passthrough off: set either on",
                options.set_clipboard
            ),
            true,
        ),
        Route::Unknown(why) => (
            format!("sent {chars} characters; tmux may drop them ({why})"),
            true,
        ),
    }
}

/// $TMUX set and non-empty.
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

    fn options(set_clipboard: &str, passthrough: bool) -> TmuxClipboard {
        TmuxClipboard {
            set_clipboard: set_clipboard.to_owned(),
            passthrough,
        }
    }

    #[test]
    fn tmux_is_asked_only_inside_tmux() {
        let route = route(Place::Outside, || panic!("asked outside tmux"));
        assert_eq!(route, Route::Terminal);
        assert_eq!(sequences("hi", &route).unwrap(), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn set_clipboard_on_gets_the_plain_sequence_even_with_passthrough() {
        let route = route(Place::Tmux, || Ok(options("on", true)));
        assert_eq!(route, Route::TmuxBuffer);
        assert_eq!(sequences("hi", &route).unwrap(), "\x1b]52;c;aGk=\x07");
        assert!(!report(&route, 2).1);
    }

    #[test]
    fn passthrough_without_set_clipboard_gets_the_wrapped_one() {
        for set_clipboard in ["external", "off"] {
            let route = route(Place::Tmux, || Ok(options(set_clipboard, true)));
            assert_eq!(route, Route::TmuxPassthrough);
            assert!(sequences("hi", &route).unwrap().starts_with("\x1bPtmux;"));
        }
    }

    #[test]
    fn nothing_is_sent_nor_claimed_when_tmux_drops_both() {
        // tmux 3.3's defaults: set-clipboard external, allow-passthrough off.
        let route = route(Place::Tmux, || Ok(options("external", false)));
        assert_eq!(sequences("hi", &route).unwrap(), "");
        let (text, error) = report(&route, 2);
        assert!(error);
        assert!(
            text.starts_with("not copied: tmux set-clipboard external"),
            "{text}"
        );
        assert!(!text.contains("yanked"), "{text}");
        assert!(
            text.chars().count() <= 80,
            "{} columns: {text}",
            text.chars().count()
        );
    }

    #[test]
    fn an_unanswered_question_sends_both_and_says_so() {
        let route = route(Place::Tmux, || Err("cannot run tmux: not found".into()));
        let sent = sequences("hi", &route).unwrap();
        assert_eq!(
            sent,
            "\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
        let (text, error) = report(&route, 2);
        assert!(error && text.contains("cannot run tmux"), "{text}");
    }

    #[test]
    fn too_long_is_refused_on_every_route() {
        let over = "a".repeat(75_001);
        for route in [Route::Terminal, Route::TmuxBuffer, Route::TmuxPassthrough] {
            assert!(sequences(&over, &route).is_err());
        }
    }

    #[test]
    fn tmux_without_its_socket_gets_both_forms_and_a_caveat() {
        let term = Some(OsStr::new("tmux-256color"));
        assert_eq!(place_from(None, term), Place::TmuxUnreachable);
        assert_eq!(
            place_from(Some(OsStr::new("/tmp/tmux-0/default,1,0")), term),
            Place::Tmux
        );
        assert_eq!(
            place_from(None, Some(OsStr::new("xterm-256color"))),
            Place::Outside
        );
        assert_eq!(place_from(None, None), Place::Outside);
        let route = route(Place::TmuxUnreachable, || panic!("no server to ask"));
        assert!(sequences("hi", &route).unwrap().contains("\x1bPtmux;"));
        let (text, error) = report(&route, 2);
        assert_eq!(text, "sent 2 characters; tmux may drop them ($TMUX unset)");
        assert!(error);
    }

    #[test]
    fn tmux_needs_a_non_empty_value() {
        assert!(!tmux_from(None));
        assert!(!tmux_from(Some(OsStr::new(""))));
        assert!(tmux_from(Some(OsStr::new("/tmp/tmux-0/default,1,0"))));
    }
}
