//! What the tmux server bpftop runs under does with a program's OSC 52
//! clipboard sequence: `set-clipboard on` stores it in a paste buffer (and
//! forwards it to the outer terminal); `external` and `off` ignore it. A
//! sequence wrapped for passthrough reaches the outer terminal only with
//! `allow-passthrough` on (tmux 3.3 and later; earlier ones always passed
//! it through and have no such option).

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long tmux gets to answer before the yank gives up asking.
const ANSWER_LIMIT: Duration = Duration::from_secs(2);

/// The two options as they apply to bpftop's pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmuxClipboard {
    /// `set-clipboard` as tmux spells it: on, external or off.
    pub set_clipboard: String,
    /// `allow-passthrough` is on (or `all`); true on a tmux without the
    /// option.
    pub passthrough: bool,
}

impl TmuxClipboard {
    /// tmux stores a plain OSC 52 from a program in its paste buffer.
    pub fn stores_osc52(&self) -> bool {
        self.set_clipboard == "on"
    }
}

/// The format that prints both options, resolved for one pane (a pane's
/// own `allow-passthrough` overrides the window's and the global one).
pub const FORMAT: &str = "#{set-clipboard}|#{allow-passthrough}";

/// Parses tmux's expansion of [`FORMAT`]. A flag option expands to 1 or 0
/// (tmux 3.3), a choice to its name (3.4: off, on, all); an unknown option
/// to nothing (before 3.3, when passthrough needed no option).
pub fn parse(answer: &str) -> Result<TmuxClipboard, String> {
    let line = answer.trim_end_matches(['\n', '\r']);
    let Some((set_clipboard, passthrough)) = line.split_once('|') else {
        return Err(format!("unexpected answer {:?}", short(line)));
    };
    let set_clipboard = match set_clipboard {
        "on" | "external" | "off" => set_clipboard.to_owned(),
        // An older tmux spelt the flag as 1/0.
        "1" => "on".to_owned(),
        "0" => "off".to_owned(),
        other => return Err(format!("unexpected set-clipboard {:?}", short(other))),
    };
    let passthrough = match passthrough {
        "1" | "on" | "all" | "" => true,
        "0" | "off" => false,
        other => return Err(format!("unexpected allow-passthrough {:?}", short(other))),
    };
    Ok(TmuxClipboard {
        set_clipboard,
        passthrough,
    })
}

/// At most 20 characters of something tmux said, for a message.
fn short(s: &str) -> String {
    s.chars()
        .take(20)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Asks the tmux server named by $TMUX (the `tmux` client finds it there)
/// about the pane in $TMUX_PANE. Err says why there is no answer. The
/// client starts with no terminal and inherits no capability (none are
/// ambient), so it runs with the user's own rights.
pub fn ask() -> Result<TmuxClipboard, String> {
    let mut command = Command::new("tmux");
    command.arg("display-message").arg("-p");
    if let Some(pane) = std::env::var_os("TMUX_PANE").filter(|p| !p.is_empty()) {
        command.arg("-t").arg(pane);
    }
    command
        .arg(FORMAT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < ANSWER_LIMIT => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "tmux did not answer in {} s",
                    ANSWER_LIMIT.as_secs()
                ));
            }
            Err(e) => return Err(format!("tmux: {e}")),
        }
    };
    // The answer is one short line: it fits the pipe, so reading it only
    // after the exit cannot block tmux.
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut out);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut err);
    }
    if !status.success() {
        let why = err.lines().next().unwrap_or("").trim();
        return Err(format!("tmux failed: {}", short_line(why, &status)));
    }
    parse(&out)
}

fn short_line(why: &str, status: &std::process::ExitStatus) -> String {
    if why.is_empty() {
        status.to_string()
    } else {
        why.chars()
            .take(60)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tmux_3_3_flags_and_3_4_choices() {
        let on = parse("on|1\n").unwrap();
        assert_eq!((on.stores_osc52(), on.passthrough), (true, true));
        let default_3_3 = parse("external|0\n").unwrap();
        assert_eq!(
            (default_3_3.stores_osc52(), default_3_3.passthrough),
            (false, false)
        );
        assert!(parse("off|all").unwrap().passthrough);
        assert!(!parse("off|off").unwrap().passthrough);
        assert_eq!(parse("external|on").unwrap().set_clipboard, "external");
    }

    #[test]
    fn tmux_before_3_3_always_passes_through() {
        let old = parse("external|\n").unwrap();
        assert!(old.passthrough);
        assert!(!old.stores_osc52());
    }

    #[test]
    fn anything_else_is_an_error_not_a_guess() {
        assert!(parse("").is_err());
        assert!(parse("yes|1").is_err());
        assert!(parse("on|maybe").is_err());
        let err = parse("\x1b]52;c;x\x07|1").unwrap_err();
        assert!(!err.contains('\x1b'), "{err:?}");
    }
}
