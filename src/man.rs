//! The man page's sections beyond the options clap writes: keys,
//! configuration, files, environment, exit status and examples, written
//! from the same tables as the help screen and the config loader, so the
//! page cannot fall behind them. `scripts/gen-docs` appends them to clap's
//! page; `tests/man_page` checks the committed page is current.

use std::fmt::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::config::KEY_HELP;
use crate::ui::state::keymap::HELP;

/// `text` safe in roff: backslashes and minus signs escaped, and a line
/// never starting with a control character.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// A section of tagged paragraphs: a bold tag, then its text.
fn tagged(out: &mut String, items: &[(&str, &str)]) {
    for (tag, text) in items {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", escape(tag), escape(text));
    }
}

const FILES: &[(&str, &str)] = &[
    (
        "$XDG_CONFIG_HOME/bpftop/config.toml",
        "the settings (else ~/.config/bpftop/config.toml); never followed through a symbolic link",
    ),
    (
        "/proc",
        "the processes (procfs backend; command lines and PID 1 where the walk needs them)",
    ),
    (
        "/sys/kernel/btf/vmlinux",
        "the kernel's BTF: without it the eBPF backend cannot load",
    ),
    (
        "/var/lib/bpftop/recording.db",
        "the flight recorder's frames (root's default; else $XDG_STATE_HOME/bpftop or ~/.local/state/bpftop), an SQLite database, with recording.lock beside it while a recorder runs",
    ),
    (
        "the cgroup2 mount",
        "cgroup paths, units and containers, freeze and thaw (found in /proc/self/mountinfo)",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "when set and not empty, no colours (as --no-color)",
    ),
    ("XDG_CONFIG_HOME, HOME", "where the config file is"),
    (
        "BPFTOP_REFRESH_COUNT",
        "a file whose one line, COUNT UNIX_TIME, every refresh rewrites in place (through a shared mapping: no system call), for benchmarks to count refreshes; created when missing, never through a symbolic link, refused under file capabilities",
    ),
    (
        "TMUX",
        "inside tmux a yank asks tmux where its OSC 52 sequence can go: with set-clipboard on, tmux keeps it in a paste buffer; with allow-passthrough on, it is wrapped for the terminal outside; with neither, nothing is sent and the status line says so. When TERM names tmux but TMUX is unset (as under sudo), both forms are sent and the status line says tmux may drop them",
    ),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "an error while running (message on standard error)"),
    ("2", "bad usage: an unknown option or value, user or column, or an option refused under file capabilities"),
];

const EXAMPLES: &[(&str, &str)] = &[
    ("bpftop", "the interface"),
    (
        "bpftop \\-t \\-u www\\-data",
        "a tree of one user's processes",
    ),
    (
        "bpftop \\-\\-batch \\-n 1 \\-s MEM%",
        "one refresh as a table, largest memory first",
    ),
    (
        "bpftop \\-\\-batch \\-\\-format json \\-d 5000",
        "JSON Lines every 5 seconds",
    ),
    (
        "bpftop \\-\\-serve 9100",
        "Prometheus metrics at http://127.0.0.1:9100/metrics",
    ),
    ("bpftop \\-\\-check", "what works on this kernel and why"),
    (
        "bpftop record \\-\\-retain 3d \\-\\-retain 1GiB",
        "record every second into /var/lib/bpftop, keeping 3 days and at most 1 GiB",
    ),
    (
        "bpftop replay \\-\\-batch \\-\\-format json \\-\\-from 2026\\-12\\-07T03:10Z \\-\\-to 2026\\-12\\-07T03:15Z",
        "what batch JSON printed between 03:10 and 03:15 UTC",
    ),
];

/// The visible options of each command (record, replay), from the command
/// line's definition.
fn subcommands(out: &mut String) {
    let cli = Cli::command();
    for sub in cli.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(out, ".SS \"bpftop {}\"\n{}", sub.get_name(), escape(&about));
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(long) = arg.get_long() else { continue };
            let mut tag = match arg.get_short() {
                Some(short) => format!("-{short}, --{long}"),
                None => format!("--{long}"),
            };
            if arg.get_action().takes_values() {
                if let Some(names) = arg.get_value_names() {
                    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                    tag = format!("{tag} {}", names.join(" "));
                }
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            tagged(out, &[(&tag, &help)]);
        }
    }
}

/// The extra sections, in roff.
pub fn extra_sections() -> String {
    let mut out = String::new();
    out.push_str(".SH KEYS\n");
    for binding in HELP {
        if binding.what.is_empty() {
            let _ = writeln!(out, ".SS {}", escape(binding.keys));
        } else {
            tagged(&mut out, &[(binding.keys, binding.what)]);
        }
    }
    out.push_str(".SH CONFIGURATION\n");
    out.push_str(
        "The setup screen (F2) saves the settings as TOML. Unknown keys, values out of range, \
         unknown or repeated column and meter ids make the file broken: it is reported with its \
         line, the defaults are used, and saving keeps it as config.toml.broken.\n",
    );
    tagged(&mut out, KEY_HELP);
    out.push_str(".SH \"FLIGHT RECORDER\"\n");
    out.push_str(
        "bpftop record stores every refresh's raw counters in an SQLite database, compressed, \
         a whole frame every minute and only the processes that changed in between; bpftop \
         replay builds the refreshes again as they were shown then. The options before the \
         command choose what is collected.\n",
    );
    subcommands(&mut out);
    out.push_str(".SH FILES\n");
    tagged(&mut out, FILES);
    out.push_str(".SH ENVIRONMENT\n");
    tagged(&mut out, ENVIRONMENT);
    out.push_str(".SH \"EXIT STATUS\"\n");
    tagged(&mut out, EXIT_STATUS);
    out.push_str(".SH EXAMPLES\n");
    for (command, what) in EXAMPLES {
        // Already escaped: the commands are written as roff.
        let _ = writeln!(out, ".TP\n\\fB{command}\\fR\n{}", escape(what));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_roff() {
        assert_eq!(escape("a-b\\c"), "a\\-b\\ec");
        assert_eq!(escape(".dot"), "\\&.dot");
        assert_eq!(escape("'quote"), "\\&'quote");
    }

    #[test]
    fn every_key_and_setting_is_in_the_page() {
        let page = extra_sections();
        for binding in HELP {
            assert!(page.contains(&escape(binding.keys)), "{}", binding.keys);
        }
        for option in ["\\-\\-retain", "\\-\\-from", "\\-\\-to"] {
            assert!(page.contains(option), "{option}");
        }
        for (key, _) in KEY_HELP {
            assert!(page.contains(&format!("\\fB{}\\fR", escape(key))), "{key}");
        }
        for section in [
            "KEYS",
            "CONFIGURATION",
            "FILES",
            "ENVIRONMENT",
            "\"EXIT STATUS\"",
            "\"FLIGHT RECORDER\"",
            "EXAMPLES",
        ] {
            assert!(page.contains(&format!(".SH {section}\n")), "{section}");
        }
    }
}
