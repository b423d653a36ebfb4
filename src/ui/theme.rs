//! Colour themes. Everything the UI draws takes its style from a theme, so
//! `--no-color` / NO_COLOR is one switch (the `mono` theme).

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: &'static str,
    /// Plain text and labels.
    pub text: Style,
    pub dim: Style,
    /// Values worth noticing (large sizes, busy CPU).
    pub highlight: Style,
    /// Meter brackets and labels.
    pub meter_label: Style,
    pub meter_text: Style,
    pub cpu_user: Style,
    pub cpu_nice: Style,
    pub cpu_system: Style,
    pub cpu_irq: Style,
    pub cpu_softirq: Style,
    pub cpu_iowait: Style,
    pub cpu_steal: Style,
    pub cpu_guest: Style,
    pub mem_used: Style,
    pub mem_buffers: Style,
    pub mem_cache: Style,
    pub mem_zram: Style,
    pub swap_used: Style,
    pub swap_cache: Style,
    /// The busy part of a GPU bar.
    pub gpu_busy: Style,
    pub table_header: Style,
    pub sorted_header: Style,
    pub selected: Style,
    pub tagged: Style,
    /// Rows of processes in a frozen cgroup.
    pub frozen: Style,
    pub visual: Style,
    pub search_match: Style,
    pub kernel_thread: Style,
    pub thread: Style,
    pub tree_guide: Style,
    pub status: Style,
    pub error: Style,
    pub key: Style,
    pub key_label: Style,
    pub dialog: Style,
    pub dialog_title: Style,
}

fn fg(c: Color) -> Style {
    Style::default().fg(c)
}

impl Theme {
    pub const NAMES: &'static [&'static str] = &["default", "mono"];

    /// htop's colours.
    pub fn default_theme() -> Theme {
        Theme {
            name: "default",
            text: Style::default(),
            dim: fg(Color::DarkGray),
            highlight: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            meter_label: fg(Color::Cyan),
            meter_text: fg(Color::DarkGray).add_modifier(Modifier::BOLD),
            cpu_user: fg(Color::Green),
            cpu_nice: fg(Color::Blue),
            cpu_system: fg(Color::Red),
            cpu_irq: fg(Color::Yellow),
            cpu_softirq: fg(Color::Magenta),
            cpu_iowait: fg(Color::DarkGray),
            cpu_steal: fg(Color::Cyan),
            cpu_guest: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            mem_used: fg(Color::Green),
            mem_buffers: fg(Color::Blue),
            mem_cache: fg(Color::Yellow),
            mem_zram: fg(Color::Magenta),
            swap_used: fg(Color::Red),
            swap_cache: fg(Color::Yellow),
            gpu_busy: fg(Color::Green),
            table_header: Style::default().fg(Color::Black).bg(Color::Green),
            sorted_header: Style::default().fg(Color::Black).bg(Color::Cyan),
            selected: Style::default().fg(Color::Black).bg(Color::Cyan),
            tagged: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            frozen: fg(Color::LightBlue).add_modifier(Modifier::ITALIC),
            visual: Style::default().bg(Color::Blue),
            search_match: Style::default().fg(Color::Black).bg(Color::Yellow),
            kernel_thread: fg(Color::Green),
            thread: fg(Color::Green),
            tree_guide: fg(Color::Cyan),
            status: Style::default(),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            key: Style::default().fg(Color::White).bg(Color::Black),
            key_label: Style::default().fg(Color::Black).bg(Color::Cyan),
            dialog: Style::default().fg(Color::White).bg(Color::Blue),
            dialog_title: Style::default()
                .fg(Color::Yellow)
                .bg(Color::Blue)
                .add_modifier(Modifier::BOLD),
        }
    }

    /// No colour at all (NO_COLOR, --no-color): structure by reverse video
    /// and bold only.
    pub fn mono() -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        let reverse = plain.add_modifier(Modifier::REVERSED);
        Theme {
            name: "mono",
            text: plain,
            dim: plain,
            highlight: bold,
            meter_label: bold,
            meter_text: plain,
            cpu_user: plain,
            cpu_nice: plain,
            cpu_system: bold,
            cpu_irq: plain,
            cpu_softirq: plain,
            cpu_iowait: plain,
            cpu_steal: plain,
            cpu_guest: plain,
            mem_used: plain,
            mem_buffers: plain,
            mem_cache: plain,
            mem_zram: bold,
            swap_used: plain,
            swap_cache: plain,
            gpu_busy: plain,
            table_header: reverse,
            sorted_header: reverse.add_modifier(Modifier::BOLD),
            selected: reverse,
            tagged: bold.add_modifier(Modifier::UNDERLINED),
            frozen: plain.add_modifier(Modifier::ITALIC),
            visual: reverse,
            search_match: reverse,
            kernel_thread: plain,
            thread: plain,
            tree_guide: plain,
            status: plain,
            error: bold,
            key: plain,
            key_label: reverse,
            dialog: reverse,
            dialog_title: reverse.add_modifier(Modifier::BOLD),
        }
    }

    pub fn by_name(name: &str) -> Option<Theme> {
        match name {
            "default" => Some(Theme::default_theme()),
            "mono" => Some(Theme::mono()),
            _ => None,
        }
    }
}
