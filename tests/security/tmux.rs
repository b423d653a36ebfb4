//! The security tests' terminal: the shared tmux driver with a 200×50
//! pane, its server run by root or by the attacker (then the attacker's
//! own server).

pub use crate::common::tmux::Tmux;
use crate::support::Attacker;

/// `command` in a server run by root; None (with the reason printed)
/// where tmux is missing.
pub fn start(tag: &str, command: &str) -> Option<Tmux<'static>> {
    start_as(None, tag, command)
}

/// `command` in a server run by `user` (root: None).
pub fn start_as<'a>(user: Option<&'a Attacker>, tag: &str, command: &str) -> Option<Tmux<'a>> {
    let tag = format!("sec-{tag}");
    match user {
        Some(user) => Tmux::start_with(
            Box::new(move || user.command("tmux")),
            &tag,
            (200, 50),
            command,
        ),
        None => Tmux::start(&tag, (200, 50), command),
    }
}
