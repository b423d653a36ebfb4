//! The man page's sections beyond the options clap writes: keys,
//! configuration, files, environment, exit status and examples, written
//! from the same tables as the help screen and the config loader, so the
//! page cannot fall behind them. `scripts/gen-docs` appends them to clap's
//! page; `tests/man_page` checks the committed page is current.

use std::fmt::Write;

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
];

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
        for (key, _) in KEY_HELP {
            assert!(page.contains(&format!("\\fB{}\\fR", escape(key))), "{key}");
        }
        for section in [
            "KEYS",
            "CONFIGURATION",
            "FILES",
            "ENVIRONMENT",
            "\"EXIT STATUS\"",
            "EXAMPLES",
        ] {
            assert!(page.contains(&format!(".SH {section}\n")), "{section}");
        }
    }
}
