//! The bytes a terminal sends → key and mouse events (the event types the
//! handlers take). Pure: time enters only through [`Decoder::flush`],
//! which the reader calls when nothing followed an incomplete sequence
//! within the Esc timeout.
//!
//! bpftop never asks the terminal for its cursor position, so
//! `ESC [ 1 ; m R` is always F3 with modifiers (xterm's and tmux's
//! Shift-F3), never a position report.
//!
//! Whatever the bytes, decoding does not panic, and a sequence split
//! across reads decodes as it does whole: an incomplete prefix waits for
//! more bytes, and only the timeout resolves it. Unknown control sequences
//! are skipped whole (a CSI ends at its final byte), so they never show up
//! as typed characters. Bytes that are not UTF-8 are ignored.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

const ESC: u8 = 0x1b;

/// The longest control sequence awaited; a longer one without a final
/// byte is garbage and dropped (its length bounds what is kept waiting).
const MAX_SEQUENCE: usize = 128;

/// Keeps the bytes of an incomplete sequence between reads.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

impl Decoder {
    /// Decodes `bytes` after what was pending, appending every complete
    /// event to `out`; an incomplete sequence at the end waits.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while at < self.pending.len() {
            match step(&self.pending[at..]) {
                Step::Event(event, used) => {
                    out.push(event);
                    at += used;
                }
                Step::Skip(used) => at += used,
                Step::Incomplete => break,
            }
        }
        self.pending.drain(..at);
    }

    /// Whether an incomplete sequence waits for more bytes.
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Nothing more came in time: an ESC alone is the Esc key, `ESC [` and
    /// `ESC O` are Alt with that character, any other unfinished sequence
    /// is dropped.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        match self.pending.as_slice() {
            [ESC] => out.push(key(KeyCode::Esc, KeyModifiers::NONE)),
            [ESC, c @ (b'[' | b'O')] => out.push(char_key(char::from(*c), KeyModifiers::ALT)),
            _ => {}
        }
        self.pending.clear();
    }
}

/// What the bytes at the front of the input are.
#[derive(Debug, PartialEq)]
enum Step {
    /// An event, and how many bytes it took.
    Event(Event, usize),
    /// Bytes that mean nothing to us.
    Skip(usize),
    /// The start of something that needs more bytes.
    Incomplete,
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

/// A character key; an upper-case letter carries Shift, as crossterm's
/// reader reported it.
fn char_key(c: char, modifiers: KeyModifiers) -> Event {
    let shift = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    key(KeyCode::Char(c), modifiers | shift)
}

fn step(buf: &[u8]) -> Step {
    match buf.first() {
        None => Step::Incomplete,
        Some(&ESC) => escape(buf),
        Some(_) => single(buf),
    }
}

/// One key that does not start with ESC: a control byte or a character.
fn single(buf: &[u8]) -> Step {
    let ctrl = KeyModifiers::CONTROL;
    let event = match buf[0] {
        b'\r' | b'\n' => key(KeyCode::Enter, KeyModifiers::NONE),
        b'\t' => key(KeyCode::Tab, KeyModifiers::NONE),
        0x7f | 0x08 => key(KeyCode::Backspace, KeyModifiers::NONE),
        0x00 => key(KeyCode::Char(' '), ctrl),
        c @ 0x01..=0x1a => key(KeyCode::Char(char::from(c - 1 + b'a')), ctrl),
        c @ 0x1c..=0x1f => key(KeyCode::Char(char::from(c - 0x1c + b'4')), ctrl),
        _ => return utf8(buf),
    };
    Step::Event(event, 1)
}

/// One UTF-8 character; an invalid byte sequence is skipped.
fn utf8(buf: &[u8]) -> Step {
    let head = &buf[..buf.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.valid_up_to() > 0 => {
            // The first character is whole; what follows is decoded next.
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(e) => {
            return match e.error_len() {
                Some(bad) => Step::Skip(bad),
                None => Step::Incomplete,
            };
        }
    };
    match valid.chars().next() {
        Some(c) => Step::Event(char_key(c, KeyModifiers::NONE), c.len_utf8()),
        None => Step::Skip(1),
    }
}

/// Everything that starts with ESC.
fn escape(buf: &[u8]) -> Step {
    let Some(&next) = buf.get(1) else {
        return Step::Incomplete;
    };
    match next {
        b'[' => csi(buf),
        b'O' => ss3(buf),
        // Esc pressed twice: the first is the Esc key.
        ESC => Step::Event(key(KeyCode::Esc, KeyModifiers::NONE), 1),
        _ => match single(&buf[1..]) {
            // ESC and a key together: Alt with that key.
            Step::Event(Event::Key(k), used) => {
                Step::Event(key(k.code, k.modifiers | KeyModifiers::ALT), used + 1)
            }
            Step::Incomplete => Step::Incomplete,
            _ => Step::Event(key(KeyCode::Esc, KeyModifiers::NONE), 1),
        },
    }
}

/// `ESC O`: SS3 keys (application cursor keys, F1–F4), with an optional
/// modifier digit before the final byte (`ESC O 2 P`).
fn ss3(buf: &[u8]) -> Step {
    let mut at = 2;
    while buf.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
        if at > 8 {
            return Step::Skip(at);
        }
    }
    let Some(&last) = buf.get(at) else {
        return Step::Incomplete;
    };
    if !(0x40..=0x7e).contains(&last) {
        // Not a sequence: Alt-O, then whatever follows.
        return if at == 2 {
            Step::Event(char_key('O', KeyModifiers::ALT), 2)
        } else {
            Step::Skip(at)
        };
    }
    let modifier = number(&buf[2..at]).map_or(KeyModifiers::NONE, modifiers);
    let code = match last {
        b'a'..=b'd' => {
            // rxvt: Ctrl with the arrows.
            return Step::Event(key(arrow(last - 0x20), KeyModifiers::CONTROL), at + 1);
        }
        b'M' => KeyCode::Enter,
        _ => match letter_key(last) {
            Some(code) => code,
            None => return Step::Skip(at + 1),
        },
    };
    Step::Event(key(code, modifier), at + 1)
}

/// `ESC [`: CSI sequences, and the mouse reports.
fn csi(buf: &[u8]) -> Step {
    match buf.get(2) {
        None => return Step::Incomplete,
        // X10 mouse: ESC [ M and three raw bytes.
        Some(b'M') => {
            return match buf.get(3..6) {
                Some(raw) => mouse_x10(raw),
                None => Step::Incomplete,
            };
        }
        // Linux console F1–F5: ESC [ [ A … E.
        Some(b'[') => {
            return match buf.get(3) {
                None => Step::Incomplete,
                Some(&c @ b'A'..=b'E') => {
                    Step::Event(key(KeyCode::F(c - b'A' + 1), KeyModifiers::NONE), 4)
                }
                Some(c) if (0x40..=0x7e).contains(c) => Step::Skip(4),
                Some(_) => Step::Skip(3),
            };
        }
        Some(_) => {}
    }
    let mut at = 2;
    loop {
        if at >= MAX_SEQUENCE {
            return Step::Skip(at);
        }
        let Some(&b) = buf.get(at) else {
            return Step::Incomplete;
        };
        match b {
            // rxvt ends its shifted keys with `$` (ESC [ 3 $).
            b'$' => return csi_sequence(&buf[2..at], b, at + 1),
            0x20..=0x3f => at += 1,
            0x40..=0x7e => return csi_sequence(&buf[2..at], b, at + 1),
            // Not part of a sequence: drop what came so far, go on here.
            _ => return Step::Skip(at),
        }
    }
}

/// A complete CSI sequence: its parameter bytes and final byte.
fn csi_sequence(params: &[u8], last: u8, used: usize) -> Step {
    if let Some(sgr) = params.strip_prefix(b"<") {
        return match mouse_sgr(sgr, last) {
            Some(event) => Step::Event(event, used),
            None => Step::Skip(used),
        };
    }
    let Some(numbers) = numbers(params) else {
        // Private markers, intermediates: nothing a key sends.
        return Step::Skip(used);
    };
    let event = match last {
        b'~' => tilde(&numbers),
        // rxvt: a key with Shift, Ctrl, or both.
        b'$' => rxvt(&numbers, KeyModifiers::SHIFT),
        b'^' => rxvt(&numbers, KeyModifiers::CONTROL),
        b'@' => rxvt(&numbers, KeyModifiers::CONTROL | KeyModifiers::SHIFT),
        b'u' => code_point(
            numbers.first().copied().flatten(),
            numbers.get(1).copied().flatten(),
        ),
        b'M' if numbers.len() == 3 => mouse_urxvt(&numbers),
        b'Z' => {
            let m = modifier_param(&numbers);
            Some(key(KeyCode::BackTab, m | KeyModifiers::SHIFT))
        }
        // rxvt: Shift with the arrows.
        b'a'..=b'd' => Some(key(arrow(last - 0x20), KeyModifiers::SHIFT)),
        // Never a cursor position report: bpftop asks for none. Only the
        // forms F3 takes (ESC [ R, ESC [ 1 ; m R).
        b'R' if !matches!(numbers.first(), None | Some(None) | Some(Some(1))) => None,
        _ => letter_key(last).map(|code| key(code, modifier_param(&numbers))),
    };
    match event {
        Some(event) => Step::Event(event, used),
        None => Step::Skip(used),
    }
}

/// The parameters: numbers separated by `;`, each possibly empty; None
/// when anything else is there.
fn numbers(params: &[u8]) -> Option<Vec<Option<u16>>> {
    if params.is_empty() {
        return Some(Vec::new());
    }
    params
        .split(|&b| b == b';')
        .map(|field| {
            if field.is_empty() {
                Some(None)
            } else {
                number(field).map(Some)
            }
        })
        .collect()
}

fn number(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// xterm's modifier parameter: 1 + a bit each for Shift, Alt, Ctrl, Meta.
fn modifiers(m: u16) -> KeyModifiers {
    let bits = m.saturating_sub(1);
    let mut out = KeyModifiers::NONE;
    for (bit, modifier) in [
        (1, KeyModifiers::SHIFT),
        (2, KeyModifiers::ALT),
        (4, KeyModifiers::CONTROL),
        (8, KeyModifiers::SUPER),
    ] {
        if bits & bit != 0 {
            out |= modifier;
        }
    }
    out
}

/// The modifiers of `ESC [ 1 ; m X`, or of the older `ESC [ m X`.
fn modifier_param(numbers: &[Option<u16>]) -> KeyModifiers {
    match numbers {
        [_, Some(m), ..] => modifiers(*m),
        [Some(m)] => modifiers(*m),
        _ => KeyModifiers::NONE,
    }
}

/// The keys of `ESC [ X` and `ESC O X`.
fn letter_key(last: u8) -> Option<KeyCode> {
    Some(match last {
        b'A'..=b'D' => arrow(last),
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'E' => KeyCode::KeypadBegin,
        b'P'..=b'S' => KeyCode::F(last - b'P' + 1),
        _ => return None,
    })
}

fn arrow(letter: u8) -> KeyCode {
    match letter {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        _ => KeyCode::Left,
    }
}

/// The VT220 key numbers of `ESC [ n ~`.
fn numbered_key(n: u16) -> Option<KeyCode> {
    Some(match n {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        11..=15 => KeyCode::F((n - 10) as u8),
        17..=21 => KeyCode::F((n - 11) as u8),
        23..=26 => KeyCode::F((n - 12) as u8),
        28..=29 => KeyCode::F((n - 13) as u8),
        31..=34 => KeyCode::F((n - 14) as u8),
        _ => return None,
    })
}

/// `ESC [ n ; m ~`, and xterm's modifyOtherKeys form `ESC [ 27 ; m ; c ~`.
/// The bracketed-paste markers (200, 201) are skipped: bpftop does not
/// turn bracketed paste on, and pasted text reads as typed.
fn tilde(numbers: &[Option<u16>]) -> Option<Event> {
    match numbers {
        [Some(27), m, Some(c)] => code_point(Some(*c), *m),
        [Some(n)] => numbered_key(*n).map(|code| key(code, KeyModifiers::NONE)),
        [Some(n), Some(m)] => numbered_key(*n).map(|code| key(code, modifiers(*m))),
        _ => None,
    }
}

fn rxvt(numbers: &[Option<u16>], modifier: KeyModifiers) -> Option<Event> {
    match numbers {
        [Some(n)] => numbered_key(*n).map(|code| key(code, modifier)),
        _ => None,
    }
}

/// A key given by its code point (CSI u, modifyOtherKeys).
fn code_point(c: Option<u16>, m: Option<u16>) -> Option<Event> {
    let m = m.map_or(KeyModifiers::NONE, modifiers);
    let code = match c? {
        13 => KeyCode::Enter,
        9 => KeyCode::Tab,
        27 => KeyCode::Esc,
        8 | 127 => KeyCode::Backspace,
        c => KeyCode::Char(char::from_u32(u32::from(c)).filter(|c| !c.is_control())?),
    };
    Some(key(code, m))
}

/// The mouse's modifier bits (4 Shift, 8 Alt, 16 Ctrl).
fn mouse_modifiers(cb: u16) -> KeyModifiers {
    let mut m = KeyModifiers::NONE;
    if cb & 4 != 0 {
        m |= KeyModifiers::SHIFT;
    }
    if cb & 8 != 0 {
        m |= KeyModifiers::ALT;
    }
    if cb & 16 != 0 {
        m |= KeyModifiers::CONTROL;
    }
    m
}

fn button(cb: u16) -> Option<MouseButton> {
    match cb & 3 {
        0 => Some(MouseButton::Left),
        1 => Some(MouseButton::Middle),
        2 => Some(MouseButton::Right),
        _ => None,
    }
}

/// The kind of a mouse report from its button byte; `release`: the SGR
/// form said so (`m`). None for buttons the interface has no use for.
fn mouse_kind(cb: u16, release: bool) -> Option<MouseEventKind> {
    if cb & 64 != 0 {
        if cb & 128 != 0 {
            return None;
        }
        return Some(match cb & 3 {
            0 => MouseEventKind::ScrollUp,
            1 => MouseEventKind::ScrollDown,
            2 => MouseEventKind::ScrollLeft,
            _ => MouseEventKind::ScrollRight,
        });
    }
    if cb & 128 != 0 {
        return None;
    }
    let button = button(cb);
    Some(match (cb & 32 != 0, release, button) {
        (true, _, Some(b)) => MouseEventKind::Drag(b),
        (true, _, None) => MouseEventKind::Moved,
        (false, true, Some(b)) => MouseEventKind::Up(b),
        (false, false, Some(b)) => MouseEventKind::Down(b),
        // The older forms' release does not say which button.
        (false, _, None) => MouseEventKind::Up(MouseButton::Left),
    })
}

fn mouse(cb: u16, x: u16, y: u16, release: bool) -> Option<Event> {
    if x == 0 || y == 0 {
        return None;
    }
    Some(Event::Mouse(MouseEvent {
        kind: mouse_kind(cb, release)?,
        column: x - 1,
        row: y - 1,
        modifiers: mouse_modifiers(cb),
    }))
}

/// SGR mouse (1006): `ESC [ < b ; x ; y M` (press, drag, wheel) or `m`
/// (release), 1-based cells.
fn mouse_sgr(params: &[u8], last: u8) -> Option<Event> {
    let release = match last {
        b'M' => false,
        b'm' => true,
        _ => return None,
    };
    match numbers(params)?.as_slice() {
        [Some(b), Some(x), Some(y)] => mouse(*b, *x, *y, release),
        _ => None,
    }
}

/// rxvt's mouse (1015): `ESC [ b ; x ; y M`, the button offset by 32.
fn mouse_urxvt(numbers: &[Option<u16>]) -> Option<Event> {
    match numbers {
        [Some(b), Some(x), Some(y)] if *b >= 32 => mouse(b - 32, *x, *y, false),
        _ => None,
    }
}

/// X10 mouse: three raw bytes, each offset by 32.
fn mouse_x10(raw: &[u8]) -> Step {
    let [b, x, y] = [raw[0], raw[1], raw[2]].map(|v| u16::from(v).saturating_sub(32));
    match mouse(b, x, y, false) {
        Some(event) => Step::Event(event, 6),
        None => Step::Skip(6),
    }
}

#[cfg(test)]
mod tests;
