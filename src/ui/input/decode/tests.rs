//! The decoder on the byte strings terminals send: xterm's and tmux's
//! (`infocmp -x xterm-256color tmux-256color`), rxvt's, the Linux
//! console's, and the mouse reports of the modes bpftop turns on.

use super::*;
use proptest::prelude::*;

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const ALT: KeyModifiers = KeyModifiers::ALT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// Decodes `bytes` as one read followed by the Esc timeout.
fn all(bytes: &[u8]) -> Vec<Event> {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    decoder.feed(bytes, &mut out);
    decoder.flush(&mut out);
    out
}

/// The one event of `bytes`, read together and not waiting for more.
fn one(bytes: &[u8]) -> Event {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    decoder.feed(bytes, &mut out);
    assert!(!decoder.waiting(), "{bytes:?} left bytes waiting");
    assert_eq!(out.len(), 1, "{bytes:?} → {out:?}");
    out.remove(0)
}

fn k(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

fn c(ch: char) -> Event {
    k(KeyCode::Char(ch), NONE)
}

#[test]
fn shift_f3_as_xterm_and_tmux_send_it_is_f3_with_shift() {
    // kf15 of xterm-256color and tmux-256color: Shift-F3.
    assert_eq!(one(b"\x1b[1;2R"), k(KeyCode::F(3), SHIFT));
    assert_eq!(one(b"\x1b[1;5R"), k(KeyCode::F(3), CTRL));
    assert_eq!(one(b"\x1b[1;3R"), k(KeyCode::F(3), ALT));
    assert_eq!(one(b"\x1b[1;6R"), k(KeyCode::F(3), CTRL | SHIFT));
    assert_eq!(one(b"\x1b[R"), k(KeyCode::F(3), NONE));
    // Anything else ending in R is skipped, never typed.
    assert_eq!(all(b"\x1b[12;40R"), vec![]);
}

#[test]
fn printable_characters_in_utf8() {
    assert_eq!(
        all(b"aZ5 "),
        vec![c('a'), k(KeyCode::Char('Z'), SHIFT), c('5'), c(' ')]
    );
    assert_eq!(all("é€😀".as_bytes()), vec![c('é'), c('€'), c('😀')]);
    // Invalid bytes are ignored; what follows them still reads.
    assert_eq!(all(b"\xffa\xc3(b\xe2\x82"), vec![c('a'), c('('), c('b')]);
    assert_eq!(
        all(b"\xed\xa0\x80x"),
        vec![c('x')],
        "a surrogate is not UTF-8"
    );
}

#[test]
fn control_keys() {
    assert_eq!(one(b"\r"), k(KeyCode::Enter, NONE));
    assert_eq!(one(b"\n"), k(KeyCode::Enter, NONE));
    assert_eq!(one(b"\t"), k(KeyCode::Tab, NONE));
    assert_eq!(one(b"\x1b[Z"), k(KeyCode::BackTab, SHIFT), "kcbt");
    assert_eq!(one(b"\x7f"), k(KeyCode::Backspace, NONE));
    assert_eq!(one(b"\x08"), k(KeyCode::Backspace, NONE));
    assert_eq!(one(b"\x01"), k(KeyCode::Char('a'), CTRL));
    assert_eq!(one(b"\x03"), k(KeyCode::Char('c'), CTRL));
    assert_eq!(one(b"\x04"), k(KeyCode::Char('d'), CTRL));
    assert_eq!(one(b"\x15"), k(KeyCode::Char('u'), CTRL));
    assert_eq!(one(b"\x1a"), k(KeyCode::Char('z'), CTRL));
    assert_eq!(one(b"\x00"), k(KeyCode::Char(' '), CTRL));
    assert_eq!(one(b"\x1c"), k(KeyCode::Char('4'), CTRL));
}

#[test]
fn esc_alone_is_esc_after_the_timeout_only() {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    decoder.feed(b"\x1b", &mut out);
    assert!(out.is_empty() && decoder.waiting(), "an ESC waits");
    decoder.flush(&mut out);
    assert_eq!(out, vec![k(KeyCode::Esc, NONE)]);
    assert!(!decoder.waiting());
    // Esc twice: two Esc keys.
    assert_eq!(all(b"\x1b\x1b"), vec![k(KeyCode::Esc, NONE); 2]);
    // ESC [ and ESC O with nothing after them: Alt with the character.
    assert_eq!(all(b"\x1b["), vec![k(KeyCode::Char('['), ALT)]);
    assert_eq!(all(b"\x1bO"), vec![k(KeyCode::Char('O'), ALT | SHIFT)]);
    // An unfinished sequence is dropped, not typed.
    assert_eq!(all(b"\x1b[1;2"), vec![]);
}

#[test]
fn alt_with_a_key_arriving_together() {
    assert_eq!(one(b"\x1bj"), k(KeyCode::Char('j'), ALT));
    assert_eq!(one(b"\x1bJ"), k(KeyCode::Char('J'), ALT | SHIFT));
    assert_eq!(one("\x1bé".as_bytes()), k(KeyCode::Char('é'), ALT));
    assert_eq!(one(b"\x1b\x7f"), k(KeyCode::Backspace, ALT));
    assert_eq!(one(b"\x1b\r"), k(KeyCode::Enter, ALT));
    assert_eq!(one(b"\x1b\x01"), k(KeyCode::Char('a'), CTRL | ALT));
    // ESC and an invalid byte: Esc, the byte ignored.
    assert_eq!(all(b"\x1b\xff"), vec![k(KeyCode::Esc, NONE)]);
}

#[test]
fn cursor_keys_in_both_forms() {
    for (seq, code) in [
        (&b"\x1b[A"[..], KeyCode::Up),
        (b"\x1b[B", KeyCode::Down),
        (b"\x1b[C", KeyCode::Right),
        (b"\x1b[D", KeyCode::Left),
        (b"\x1bOA", KeyCode::Up),
        (b"\x1bOB", KeyCode::Down),
        (b"\x1bOC", KeyCode::Right),
        (b"\x1bOD", KeyCode::Left),
        (b"\x1b[H", KeyCode::Home),
        (b"\x1b[F", KeyCode::End),
        (b"\x1bOH", KeyCode::Home),
        (b"\x1bOF", KeyCode::End),
        (b"\x1b[1~", KeyCode::Home),
        (b"\x1b[4~", KeyCode::End),
        (b"\x1b[7~", KeyCode::Home),
        (b"\x1b[8~", KeyCode::End),
        (b"\x1b[2~", KeyCode::Insert),
        (b"\x1b[3~", KeyCode::Delete),
        (b"\x1b[5~", KeyCode::PageUp),
        (b"\x1b[6~", KeyCode::PageDown),
        (b"\x1bOE", KeyCode::KeypadBegin),
        (b"\x1bOM", KeyCode::Enter),
    ] {
        assert_eq!(one(seq), k(code, NONE), "{seq:?}");
    }
    assert_eq!(one(b"\x1b[1;5A"), k(KeyCode::Up, CTRL));
    assert_eq!(one(b"\x1b[1;2B"), k(KeyCode::Down, SHIFT));
    assert_eq!(one(b"\x1b[1;3H"), k(KeyCode::Home, ALT));
    assert_eq!(one(b"\x1b[5;5~"), k(KeyCode::PageUp, CTRL));
    assert_eq!(one(b"\x1b[3;2~"), k(KeyCode::Delete, SHIFT));
    // rxvt: Shift and Ctrl with arrows and numbered keys.
    assert_eq!(one(b"\x1b[a"), k(KeyCode::Up, SHIFT));
    assert_eq!(one(b"\x1bOd"), k(KeyCode::Left, CTRL));
    assert_eq!(one(b"\x1b[3$"), k(KeyCode::Delete, SHIFT));
    assert_eq!(one(b"\x1b[5^"), k(KeyCode::PageUp, CTRL));
    assert_eq!(one(b"\x1b[2@"), k(KeyCode::Insert, CTRL | SHIFT));
}

#[test]
fn function_keys() {
    let f = |n| k(KeyCode::F(n), NONE);
    // F1–F4: SS3 (xterm, tmux), VT220 numbers (rxvt), Linux console.
    for (n, ss3, vt, linux) in [
        (1, &b"\x1bOP"[..], &b"\x1b[11~"[..], &b"\x1b[[A"[..]),
        (2, b"\x1bOQ", b"\x1b[12~", b"\x1b[[B"),
        (3, b"\x1bOR", b"\x1b[13~", b"\x1b[[C"),
        (4, b"\x1bOS", b"\x1b[14~", b"\x1b[[D"),
    ] {
        assert_eq!(one(ss3), f(n));
        assert_eq!(one(vt), f(n));
        assert_eq!(one(linux), f(n));
    }
    assert_eq!(one(b"\x1b[[E"), f(5));
    for (n, code) in [
        (5, 15),
        (6, 17),
        (7, 18),
        (8, 19),
        (9, 20),
        (10, 21),
        (11, 23),
        (12, 24),
    ] {
        assert_eq!(one(format!("\x1b[{code}~").as_bytes()), f(n));
        // kf17–kf24 (Shift), kf29–kf36 (Ctrl), kf53–kf60 (Alt).
        assert_eq!(
            one(format!("\x1b[{code};2~").as_bytes()),
            k(KeyCode::F(n), SHIFT)
        );
        assert_eq!(
            one(format!("\x1b[{code};5~").as_bytes()),
            k(KeyCode::F(n), CTRL)
        );
        assert_eq!(
            one(format!("\x1b[{code};3~").as_bytes()),
            k(KeyCode::F(n), ALT)
        );
    }
    // kf13–kf16 (Shift-F1–F4), kf25 (Ctrl-F1), kf49 (Alt-F1).
    for (n, letter) in [(1, 'P'), (2, 'Q'), (3, 'R'), (4, 'S')] {
        assert_eq!(
            one(format!("\x1b[1;2{letter}").as_bytes()),
            k(KeyCode::F(n), SHIFT)
        );
    }
    assert_eq!(one(b"\x1b[1;5P"), k(KeyCode::F(1), CTRL));
    assert_eq!(one(b"\x1b[1;3P"), k(KeyCode::F(1), ALT));
    // Older xterms: the modifier inside SS3.
    assert_eq!(one(b"\x1bO2R"), k(KeyCode::F(3), SHIFT));
    // F13–F20 as rxvt sends them for Shift-F3…F10.
    for (n, code) in [
        (13, 25),
        (14, 26),
        (15, 28),
        (16, 29),
        (17, 31),
        (18, 32),
        (19, 33),
        (20, 34),
    ] {
        assert_eq!(one(format!("\x1b[{code}~").as_bytes()), f(n));
    }
    assert_eq!(one(b"\x1b[25$"), k(KeyCode::F(13), SHIFT));
}

#[test]
fn keys_by_code_point() {
    // xterm's modifyOtherKeys and CSI u.
    assert_eq!(one(b"\x1b[27;5;106~"), k(KeyCode::Char('j'), CTRL));
    assert_eq!(one(b"\x1b[27;2;13~"), k(KeyCode::Enter, SHIFT));
    assert_eq!(one(b"\x1b[106;5u"), k(KeyCode::Char('j'), CTRL));
    assert_eq!(one(b"\x1b[27u"), k(KeyCode::Esc, NONE));
}

fn m(kind: MouseEventKind, column: u16, row: u16, modifiers: KeyModifiers) -> Event {
    Event::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers,
    })
}

#[test]
fn sgr_mouse() {
    use MouseButton::{Left, Middle, Right};
    use MouseEventKind::*;
    assert_eq!(one(b"\x1b[<0;10;5M"), m(Down(Left), 9, 4, NONE));
    assert_eq!(one(b"\x1b[<0;10;5m"), m(Up(Left), 9, 4, NONE));
    assert_eq!(one(b"\x1b[<1;1;1M"), m(Down(Middle), 0, 0, NONE));
    assert_eq!(one(b"\x1b[<2;300;200M"), m(Down(Right), 299, 199, NONE));
    assert_eq!(one(b"\x1b[<64;3;4M"), m(ScrollUp, 2, 3, NONE));
    assert_eq!(one(b"\x1b[<65;3;4M"), m(ScrollDown, 2, 3, NONE));
    assert_eq!(one(b"\x1b[<32;7;8M"), m(Drag(Left), 6, 7, NONE));
    assert_eq!(one(b"\x1b[<35;7;8M"), m(Moved, 6, 7, NONE));
    assert_eq!(one(b"\x1b[<4;1;2M"), m(Down(Left), 0, 1, SHIFT));
    assert_eq!(one(b"\x1b[<16;1;2M"), m(Down(Left), 0, 1, CTRL));
    assert_eq!(one(b"\x1b[<8;1;2M"), m(Down(Left), 0, 1, ALT));
    // Malformed reports are skipped whole.
    assert_eq!(
        all(b"\x1b[<0;0;5M\x1b[<0;5Mx\x1b[<99999;1;1M"),
        vec![c('x')]
    );
}

#[test]
fn older_mouse_reports() {
    use MouseButton::Left;
    use MouseEventKind::*;
    // X10/normal: ESC [ M and three bytes offset by 32.
    assert_eq!(one(b"\x1b[M\x20\x2a\x25"), m(Down(Left), 9, 4, NONE));
    assert_eq!(one(b"\x1b[M\x23\x2a\x25"), m(Up(Left), 9, 4, NONE));
    assert_eq!(one(b"\x1b[M\x60\x21\x21"), m(ScrollUp, 0, 0, NONE));
    // rxvt's 1015.
    assert_eq!(one(b"\x1b[32;10;5M"), m(Down(Left), 9, 4, NONE));
    assert_eq!(one(b"\x1b[97;10;5M"), m(ScrollDown, 9, 4, NONE));
}

#[test]
fn unknown_sequences_never_leak_as_characters() {
    // Focus reports, bracketed-paste markers, device replies, a cursor
    // position report, private modes, an unknown SS3: all skipped whole.
    let noise: &[&[u8]] = &[
        b"\x1b[I",
        b"\x1b[O",
        b"\x1b[200~",
        b"\x1b[201~",
        b"\x1b[?1;2c",
        b"\x1b[>0;276;0c",
        b"\x1b[5;10R",
        b"\x1b[99~",
        b"\x1b[1;2;3;4;5X",
        b"\x1b[ q",
        b"\x1bOz",
        b"\x1bO5z",
    ];
    for seq in noise {
        let mut bytes = seq.to_vec();
        bytes.push(b'q');
        assert_eq!(all(&bytes), vec![c('q')], "{seq:?}");
    }
    // Pasted text between the markers reads as typed.
    assert_eq!(all(b"\x1b[200~ab\x1b[201~"), vec![c('a'), c('b')]);
    // A sequence cut short by a control byte is dropped up to it.
    assert_eq!(all(b"\x1b[1;\rq"), vec![k(KeyCode::Enter, NONE), c('q')]);
    // Endless parameters are dropped once too long, not kept forever.
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    decoder.feed(b"\x1b[", &mut out);
    for _ in 0..10_000 {
        decoder.feed(b"1;", &mut out);
        assert!(decoder.pending.len() <= MAX_SEQUENCE);
    }
}

#[test]
fn a_sequence_split_across_reads_waits_for_its_end() {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    for part in [&b"\x1b"[..], b"[1", b";", b"2", b"R"] {
        decoder.feed(part, &mut out);
    }
    assert_eq!(out, vec![k(KeyCode::F(3), SHIFT)]);
    assert!(!decoder.waiting());
}

/// Decodes `bytes` cut into pieces at `cuts` (fed one by one), then the
/// timeout.
fn in_pieces(bytes: &[u8], cuts: &[usize]) -> Vec<Event> {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut from = 0;
    for cut in cuts {
        decoder.feed(&bytes[from..cut], &mut out);
        from = cut;
    }
    decoder.feed(&bytes[from..], &mut out);
    decoder.flush(&mut out);
    out
}

/// Bytes that look like terminal input: mostly escape-sequence material.
fn terminal_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"\x1b".to_vec()),
        Just(b"\x1b[".to_vec()),
        Just(b"\x1bO".to_vec()),
        Just(b"\x1b[<".to_vec()),
        Just(b"\x1b[M".to_vec()),
        Just(b"\x1b[1;2R".to_vec()),
        Just(b";".to_vec()),
        Just(b"~".to_vec()),
        Just("é".as_bytes().to_vec()),
        (0u16..400).prop_map(|n| n.to_string().into_bytes()),
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_decode_without_panic_and_alike_in_pieces(
        bytes in prop_oneof![terminal_bytes(), prop::collection::vec(any::<u8>(), 0..200)],
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = all(&bytes);
        prop_assert_eq!(in_pieces(&bytes, &cuts), whole.clone());
        // Byte by byte, as a slow line delivers them.
        let every: Vec<usize> = (0..=bytes.len()).collect();
        prop_assert_eq!(in_pieces(&bytes, &every), whole);
    }
}
