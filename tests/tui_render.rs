//! Rendered screens, fed by the fake collector: each case checks specific
//! facts about the screen and compares it with a reviewed snapshot in
//! tests/snapshots/ (BPFTOP_UPDATE_SNAPSHOTS=1 rewrites them after a
//! deliberate change; review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use bpftop::collect::catalog::Catalog;
use bpftop::collect::fake::{demo_processes, demo_user_name, FakeCollector};
use bpftop::collect::Collector;
use bpftop::model::Model;
use bpftop::ui::keys::handle_key;
use bpftop::ui::render::{draw, layout};
use bpftop::ui::theme::Theme;
use bpftop::ui::view::{Effect, ViewState};

/// A view over the demo machine after two refreshes (so CPU% is known:
/// java at 100 %, top at 50 %).
fn view(width: u16, height: u16) -> ViewState {
    let mut collector = FakeCollector::new(demo_processes());
    let first = collector.collect().unwrap();
    let mut second = collector.collect().unwrap();
    // Units and containers as the sampler would describe them (no cgroup2
    // mount: frozen state unknown).
    second.cgroups =
        Catalog::new(std::path::Path::new("/nonexistent"), None).describe(&second.processes);
    let model = Model::new(&second, Some(&first), None, &demo_user_name);
    let mut view = ViewState::new(Theme::mono());
    view.backend_label = "eBPF".to_owned();
    view.page_rows = layout(Rect::new(0, 0, width, height), &view)
        .table
        .height
        .max(1) as usize;
    view.set_model(Arc::new(model));
    view
}

fn press(view: &mut ViewState, keys: &str) -> Effect {
    let mut effect = Effect::None;
    for c in keys.chars() {
        effect = handle_key(view, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    effect
}

fn key(view: &mut ViewState, code: KeyCode) -> Effect {
    handle_key(view, KeyEvent::new(code, KeyModifiers::NONE))
}

fn render(view: &ViewState, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    draw(view, area, &mut buf);
    buf
}

/// The screen's rows as text. A wide character fills two cells; the
/// second holds a placeholder that is not part of the text.
fn lines(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < buf.area.width {
                let symbol = buf[(x, y)].symbol();
                line.push_str(symbol);
                x += (unicode_width::UnicodeWidthStr::width(symbol) as u16).max(1);
            }
            line
        })
        .collect()
}

fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// Compares with tests/snapshots/NAME.txt.
fn snapshot(name: &str, buf: &Buffer) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    let actual = text(buf) + "\n";
    if std::env::var_os("BPFTOP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}: run with BPFTOP_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        panic!("screen {name} differs from its snapshot:\n--- expected\n{expected}\n--- actual\n{actual}");
    }
}

fn row_of<'a>(lines: &'a [String], needle: &str) -> Option<(usize, &'a String)> {
    lines.iter().enumerate().find(|(_, l)| l.contains(needle))
}

#[test]
fn default_view() {
    let v = view(120, 32);
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let header = row_of(&lines, "PID USER").expect("column titles");
    // Sorted by CPU% descending: java (100 %) first, then top (50 %).
    assert!(
        lines[header.0 + 1].contains("java"),
        "{}",
        lines[header.0 + 1]
    );
    assert!(lines[header.0 + 1].contains("100.0"));
    assert!(lines[header.0 + 2].contains("top"));
    // Kernel threads are hidden by default.
    assert!(!text(&buf).contains("kworker"));
    assert!(text(&buf).contains("Tasks:"));
    assert!(text(&buf).contains("F10Quit"));
    snapshot("default_view", &buf);
}

/// Memory as htop 3.2 prints it (observed beside bpftop: KiB as a plain
/// number below 100 000, then `708M`, `3016M`, then GiB), five characters
/// wide, so at 80 columns Command gets what htop's fixed columns leave
/// it, less two PID digits for pid_max up to 7 digits (htop: 15 with a
/// 5-digit pid_max).
/// The demo's java has 12 GiB virtual, 2.5 GiB resident, 30 MiB shared.
#[test]
fn memory_reads_like_htop_and_leaves_command_room_at_80_columns() {
    let v = view(80, 24);
    let buf = render(&v, 80, 24);
    let lines = lines(&buf);
    let (title_row, titles) = row_of(&lines, "PID USER").unwrap();
    let command_at = titles[..titles.find("Command").unwrap()].chars().count();
    assert_eq!(80 - command_at, 13, "{titles}");
    let java = lines
        .iter()
        .position(|l| l.contains("/usr/bin/java"))
        .unwrap();
    let cell = |title| cell_under(&lines, title_row, java, title, true);
    assert_eq!(
        [cell("VIRT"), cell("RES"), cell("SHR")],
        ["12.0G", "2560M", "30720"]
    );
    assert!(lines[java].ends_with(" /usr/bin/java"), "{}", lines[java]);
}

#[test]
fn tree_view_with_a_fold() {
    let mut v = view(120, 32);
    press(&mut v, "t");
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let (bash_at, _) = row_of(&lines, "bash").unwrap();
    let (vim_at, vim) = row_of(&lines, "vim").unwrap();
    assert!(
        vim_at > bash_at && vim.contains("─ "),
        "vim under bash: {vim}"
    );
    snapshot("tree_view", &buf);
    // F5 names what it switches to, as htop's key bar does.
    assert!(lines[31].contains("F5List  F6"), "{}", lines[31]);
    press(&mut v, "t");
    let list = self::lines(&render(&v, 120, 32));
    assert!(list[31].contains("F5Tree  F6"), "{}", list[31]);
    press(&mut v, "t");

    // Fold bash: its children disappear, the fold is marked.
    let bash_row = v
        .rows
        .iter()
        .position(|r| v.model.as_ref().unwrap().processes[r.process].sample.pid == 1200)
        .unwrap();
    v.set_cursor(bash_row);
    press(&mut v, "zc");
    let folded = text(&render(&v, 120, 32));
    assert!(!folded.contains("vim"), "vim hidden under the fold");
    assert!(folded.contains("+ "), "fold marker shown");
    // Folding survives a refresh.
    let model = v.model.clone().unwrap();
    v.set_model(model);
    assert!(!text(&render(&v, 120, 32)).contains("vim"));
    snapshot("tree_view_folded", &render(&v, 120, 32));
    press(&mut v, "zR");
    assert!(text(&render(&v, 120, 32)).contains("vim"));
}

#[test]
fn filter_hides_rows() {
    let mut v = view(120, 32);
    press(&mut v, "\\vim");
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let table_start = row_of(&lines, "PID USER").unwrap().0;
    let rows: Vec<&String> = lines[table_start + 1..]
        .iter()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .collect();
    assert_eq!(rows.len(), 1, "only vim matches: {rows:?}");
    assert!(text(&buf).contains("Filter: vim"));
    key(&mut v, KeyCode::Enter);
    // Negation shows everything but vim.
    press(&mut v, "\\");
    for _ in 0..3 {
        key(&mut v, KeyCode::Backspace);
    }
    press(&mut v, "!vim");
    key(&mut v, KeyCode::Enter);
    let shown: Vec<u32> = (0..v.rows.len())
        .map(|r| v.row_process(r).unwrap().sample.pid)
        .collect();
    assert!(!shown.contains(&1300), "vim is filtered out: {shown:?}");
    assert!(shown.contains(&900), "java stays: {shown:?}");
    snapshot("filter", &buf);
}

#[test]
fn search_selects_the_match() {
    let mut v = view(120, 32);
    press(&mut v, "/cron");
    assert_eq!(v.selected().unwrap().sample.pid, 700);
    key(&mut v, KeyCode::Enter);
    press(&mut v, "n");
    assert_eq!(
        v.selected().unwrap().sample.pid,
        700,
        "the only match wraps to itself"
    );
    snapshot("search", &render(&v, 120, 32));
}

/// Three processes match "sbin" (init 1, sshd 400, cron 700): n and
/// Shift-F3 visit each in turn, and Esc returns to where the search began.
#[test]
fn search_next_and_previous_visit_every_match() {
    let mut v = view(120, 32);
    press(&mut v, "<");
    while v.sort.column.id() != "PID" {
        press(&mut v, "<");
    }
    assert!(!v.sort.descending);
    let pid = |v: &ViewState| v.selected().unwrap().sample.pid;
    press(&mut v, "/sbin");
    assert_eq!(pid(&v), 1, "first match from the top");
    key(&mut v, KeyCode::Enter);
    press(&mut v, "n");
    assert_eq!(pid(&v), 400);
    press(&mut v, "n");
    assert_eq!(pid(&v), 700);
    press(&mut v, "n");
    assert_eq!(pid(&v), 1, "wraps");
    handle_key(&mut v, KeyEvent::new(KeyCode::F(3), KeyModifiers::SHIFT));
    assert_eq!(pid(&v), 700, "Shift-F3: previous match");
    assert!(v.input == bpftop::ui::view::Input::None, "not a new search");
    // Terminals that send Shift-F3 as F15.
    key(&mut v, KeyCode::F(15));
    assert_eq!(pid(&v), 400);
    v.set_cursor(5);
    press(&mut v, "/cron");
    assert_eq!(pid(&v), 700);
    key(&mut v, KeyCode::Esc);
    assert_eq!(pid(&v), 700, "Esc keeps the found row, as htop does");
    assert!(v.input == bpftop::ui::view::Input::None);
}

/// While the search line is open, F3 and Shift-F3 step through the
/// matches of what is typed (htop's keys); after Enter, n and Shift-F3
/// go on with the same text.
#[test]
fn f3_and_shift_f3_step_while_typing() {
    let mut v = view(120, 32);
    while v.sort.column.id() != "PID" {
        press(&mut v, "<");
    }
    let pid = |v: &ViewState| v.selected().unwrap().sample.pid;
    let shift_f3 = KeyEvent::new(KeyCode::F(3), KeyModifiers::SHIFT);
    key(&mut v, KeyCode::F(3));
    press(&mut v, "sbin");
    assert_eq!(pid(&v), 1);
    key(&mut v, KeyCode::F(3));
    assert_eq!(pid(&v), 400, "F3: next match");
    key(&mut v, KeyCode::F(3));
    assert_eq!(pid(&v), 700);
    handle_key(&mut v, shift_f3);
    assert_eq!(pid(&v), 400, "Shift-F3: previous match");
    key(&mut v, KeyCode::F(15));
    assert_eq!(pid(&v), 1, "F15 is Shift-F3");
    assert!(
        matches!(&v.input, bpftop::ui::view::Input::Search(t) if t == "sbin"),
        "still typing"
    );
    let bottom = lines(&render(&v, 120, 32)).pop().unwrap();
    assert!(bottom.starts_with("F3Next  S-F3Prev"), "{bottom}");
    key(&mut v, KeyCode::Enter);
    press(&mut v, "n");
    assert_eq!(pid(&v), 400, "n after Enter");
    handle_key(&mut v, shift_f3);
    assert_eq!(pid(&v), 1, "Shift-F3 after Enter");
}

#[test]
fn sort_chooser_and_keys() {
    let mut v = view(120, 32);
    key(&mut v, KeyCode::F(6));
    let buf = render(&v, 120, 32);
    assert!(text(&buf).contains("Sort by"));
    snapshot("sort_chooser", &buf);
    // Choose PID (the first visible column), ascending by default.
    key(&mut v, KeyCode::Home);
    key(&mut v, KeyCode::Enter);
    let pids: Vec<u32> = (0..v.rows.len())
        .map(|r| v.row_process(r).unwrap().sample.pid)
        .collect();
    let mut sorted = pids.clone();
    sorted.sort();
    assert_eq!(pids, sorted);
    press(&mut v, "I");
    let first = v.row_process(0).unwrap().sample.pid;
    assert_eq!(first, *sorted.last().unwrap());
}

#[test]
fn signal_menu_targets_what_the_user_saw() {
    let mut v = view(120, 32);
    press(&mut v, "/vim");
    key(&mut v, KeyCode::Enter);
    press(&mut v, "x");
    let buf = render(&v, 120, 32);
    assert!(text(&buf).contains("Send signal to 1 process"));
    snapshot("signal_menu", &buf);
    // The list reorders before Enter: the menu still targets vim.
    press(&mut v, "I");
    let model = v.model.clone().unwrap();
    v.set_model(model);
    // Digits jump: 9 selects KILL.
    press(&mut v, "9");
    match key(&mut v, KeyCode::Enter) {
        Effect::Signal { targets, signal } => {
            assert_eq!(signal, 9);
            assert_eq!(targets.len(), 1);
            assert_eq!(targets[0].pid, 1300);
        }
        other => panic!("expected a signal, got {other:?}"),
    }
}

#[test]
fn setup_and_help_screens() {
    let mut v = view(120, 40);
    key(&mut v, KeyCode::F(2));
    let setup = render(&v, 120, 40);
    assert!(text(&setup).contains("[Columns]"));
    snapshot("setup", &setup);
    // Enabling START adds the column; closing asks to save.
    let start_row = bpftop::ui::dialogs::setup_columns(&v)
        .iter()
        .position(|(c, _)| c.id() == "START")
        .unwrap();
    for _ in 0..start_row {
        press(&mut v, "j");
    }
    press(&mut v, " ");
    assert!(v.columns.iter().any(|c| c.id() == "START"));
    assert_eq!(key(&mut v, KeyCode::Esc), Effect::SaveConfig);

    key(&mut v, KeyCode::F(1));
    let help = render(&v, 120, 40);
    assert!(text(&help).contains("Help"));
    assert!(text(&help).contains("visual mode"));
    snapshot("help", &help);
}

#[test]
fn visual_mode_tags_a_range() {
    let mut v = view(120, 32);
    press(&mut v, "V");
    press(&mut v, "jj");
    let buf = render(&v, 120, 32);
    assert!(text(&buf).contains("-- VISUAL --"));
    snapshot("visual", &buf);
    let in_range = v.targets();
    assert_eq!(in_range.len(), 3);
    // The list reorders: the range still starts at the process it started at.
    let anchor = v.row_process(0).unwrap().sample.key();
    press(&mut v, "I");
    let (first, last) = v.visual_range().unwrap();
    let keys = v.keys_of_rows(first, last);
    assert!(keys.contains(&anchor), "anchor {anchor:?} kept in {keys:?}");
    press(&mut v, "I");
    press(&mut v, " ");
    assert_eq!(v.tagged.len(), 3);
    assert!(v.visual_anchor.is_none());
}

#[test]
fn yank_gives_clean_text() {
    let mut v = view(120, 32);
    press(&mut v, "/pwned");
    key(&mut v, KeyCode::Enter);
    assert_eq!(v.selected().unwrap().sample.pid, 1500);
    if let Effect::Yank(text) = press(&mut v, "yc") {
        assert!(!text.chars().any(char::is_control), "{text:?}");
    } else {
        panic!("yc yanks");
    }
    assert_eq!(press(&mut v, "yp"), Effect::Yank("1500".to_owned()));
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in [(40, 10), (20, 5), (1, 1), (0, 0), (200, 3)] {
        let mut v = view(w, h);
        press(&mut v, "t");
        key(&mut v, KeyCode::F(2));
        let _ = render(&v, w, h);
    }
    let v = view(40, 10);
    snapshot("tiny_40x10", &render(&v, 40, 10));
}

#[test]
fn hostile_names_are_neutralised_and_aligned() {
    let mut v = view(140, 40);
    v.show_kernel_threads = true;
    v.rebuild();
    let buf = render(&v, 140, 40);
    for l in lines(&buf) {
        assert!(
            !l.chars().any(|c| c.is_control()),
            "control character reached the screen: {l:?}"
        );
    }
    // Every row is exactly as wide as the screen (wide characters included).
    for (y, l) in lines(&buf).iter().enumerate() {
        let width = unicode_width::UnicodeWidthStr::width(l.as_str());
        assert_eq!(width, 140, "row {y} is {width} columns wide: {l}");
    }
    // The wide name is intact, and columns after it did not shift.
    assert!(text(&buf).contains("名前"));
    snapshot("hostile_names", &buf);
}

/// The processes of one systemd unit, through the O chooser; the UNIT
/// column shows it.
#[test]
fn one_unit_only() {
    let mut v = view(140, 32);
    v.columns.insert(1, bpftop::ui::columns::Column::Unit);
    press(&mut v, "O");
    let Some(bpftop::ui::dialogs::Dialog::Group { groups, .. }) = v.dialog.clone() else {
        panic!("group chooser");
    };
    let at = groups
        .iter()
        .position(|g| {
            g.as_ref()
                .is_some_and(|g| g.label() == "unit session-3.scope")
        })
        .expect("the session scope is offered");
    for _ in 0..at {
        press(&mut v, "j");
    }
    key(&mut v, KeyCode::Enter);
    let pids: Vec<u32> = (0..v.rows.len())
        .map(|r| v.row_process(r).unwrap().sample.pid)
        .collect();
    assert!(!pids.is_empty());
    for r in 0..v.rows.len() {
        let p = v.row_process(r).unwrap();
        assert!(
            p.sample
                .cgroup
                .as_deref()
                .is_some_and(|c| c.ends_with("session-3.scope")),
            "{} is not in the session",
            p.sample.pid
        );
    }
    let buf = render(&v, 140, 32);
    assert!(text(&buf).contains("unit session-3.scope"));
    snapshot("one_unit", &buf);
}

/// f lists every process of the cgroup, and Enter asks to freeze exactly it;
/// a process sharing its cgroup can be isolated instead.
#[test]
fn freeze_dialog_lists_the_cgroup() {
    let mut v = view(140, 40);
    press(&mut v, "/vim");
    key(&mut v, KeyCode::Enter);
    let vim = v.selected().unwrap().sample.clone();
    let cgroup = vim.cgroup.as_deref().unwrap().to_owned();
    let members: Vec<u32> = v
        .model
        .as_ref()
        .unwrap()
        .processes
        .iter()
        .filter(|p| p.sample.cgroup.as_deref() == Some(cgroup.as_str()))
        .map(|p| p.sample.pid)
        .collect();
    assert!(members.len() > 1, "vim shares its session scope");
    press(&mut v, "f");
    let buf = render(&v, 140, 40);
    let screen = text(&buf);
    assert!(screen.contains("Freeze 1 cgroup(s)"));
    for pid in &members {
        assert!(screen.contains(&format!("{pid:>7} ")), "{pid} listed");
    }
    snapshot("freeze_dialog", &buf);
    let dialog = v.dialog.clone();
    assert_eq!(
        key(&mut v, KeyCode::Enter),
        Effect::Freeze {
            cgroups: vec![cgroup.clone()],
            isolate: None
        }
    );
    v.dialog = dialog;
    assert_eq!(
        press(&mut v, "i"),
        Effect::Freeze {
            cgroups: Vec::new(),
            isolate: Some((vim.key(), cgroup))
        }
    );
    // Kernel threads are refused with a message.
    v.show_kernel_threads = true;
    v.rebuild();
    press(&mut v, "/kworker");
    key(&mut v, KeyCode::Enter);
    press(&mut v, "f");
    assert!(v.dialog.is_none());
    assert!(v.status.as_ref().is_some_and(|s| s.error));
}

/// At a refresh the selection keeps its place in the list, as htop's does
/// (it starts on the top row); a search result stays on its process until
/// the user moves, and so does a process followed with F.
#[test]
fn selection_keeps_its_row_unless_it_follows() {
    let mut v = view(120, 32);
    assert_eq!(v.cursor, 0, "starts on the top row");
    let model = v.model.clone().unwrap();
    let pid = |v: &ViewState| v.selected().unwrap().sample.pid;
    press(&mut v, "jj");
    let (row, first) = (v.cursor, pid(&v));
    press(&mut v, "I");
    v.set_model(model.clone());
    assert_eq!(v.cursor, row, "a re-sorted list keeps the selected row");
    assert_ne!(pid(&v), first, "... where another process now is");

    press(&mut v, "/vim");
    key(&mut v, KeyCode::Enter);
    let found = v.cursor;
    press(&mut v, "I");
    assert_ne!(v.cursor, found, "the list was reordered");
    v.set_model(model.clone());
    assert_eq!(pid(&v), 1300, "the search result stays selected");
    press(&mut v, "j");
    let row = v.cursor;
    press(&mut v, "I");
    v.set_model(model.clone());
    assert_eq!(v.cursor, row, "moving ended the hold");

    press(&mut v, "F");
    let followed = pid(&v);
    press(&mut v, "I");
    v.set_model(model.clone());
    assert_eq!(pid(&v), followed, "F follows the process");
    assert!(v.following());
    press(&mut v, "k");
    assert!(!v.following(), "moving ends following");
}

/// The cell of table row `row` under the column titled `title` (a
/// right-aligned cell ends where its title ends, sort marker included).
/// Counts characters: not for rows with wide characters.
fn cell_under(lines: &[String], title_row: usize, row: usize, title: &str, right: bool) -> String {
    let titles = &lines[title_row];
    let start = titles[..titles.find(title).expect("title shown")]
        .chars()
        .count();
    let line: Vec<char> = lines[row].chars().collect();
    let cell: String = if right {
        // Right-aligned: read leftwards from the title's end to a blank.
        let end = start + title.chars().count();
        let mut from = end;
        while from > 0 && line[from - 1] != ' ' {
            from -= 1;
        }
        line[from..end].iter().collect()
    } else {
        line[start..].iter().take_while(|c| **c != ' ').collect()
    };
    cell
}

/// N: bytes per second. The fake collector's running processes (java and
/// top) receive 96 KiB and send 24 KiB a second; the others move nothing.
/// The host meter shows /proc/net/dev's 1.5 MiB/s in and 200 KiB/s out.
#[test]
fn network_rates_view() {
    let mut v = view(120, 32);
    v.meters.push(bpftop::ui::header::Meter::Network);
    press(&mut v, "N");
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let screen = text(&buf);
    assert!(
        screen.contains("Network: rx 1.50MiB/s tx 200KiB/s"),
        "{screen}"
    );
    let (title_row, titles) = row_of(&lines, "PID USER").unwrap();
    // The extra columns sit just before Command; the sort column (NET/s)
    // is not one of them, so no title is marked.
    assert!(
        titles.contains("NET_RX/s NET_TX/s IFACE      Command"),
        "{titles}"
    );
    assert!(!titles.contains('▽'), "{titles}");
    let row = |pid: u32| {
        lines
            .iter()
            .position(|l| l.trim_start().starts_with(&format!("{pid} ")))
            .unwrap()
    };
    // By NET/s: java and top (120 KiB/s each, ties by pid), then the rest.
    assert_eq!(row(900), title_row + 1);
    assert_eq!(row(1301), title_row + 2);
    assert_eq!(row(1), title_row + 3);
    let cell = |pid, title, right| cell_under(&lines, title_row, row(pid), title, right);
    assert_eq!(cell(1301, "NET_RX/s", true), "96K/s");
    assert_eq!(cell(1301, "NET_TX/s", true), "24K/s");
    assert_eq!(cell(1301, "IFACE", false), "eth0");
    assert_eq!(cell(350, "NET_RX/s", true), "0B/s");
    assert_eq!(cell(400, "IFACE", false), "wg0");
    assert_eq!(cell(700, "IFACE", false), "", "cron made no routed send");
    snapshot("network_rates", &buf);
}

/// N N: totals since bpftop started, by NET_TOT. From the fake collector:
/// java 5 GiB + 1 GiB + 2 × 120 KiB, sshd 40 + 250 MiB, top 3 MiB +
/// 700 KiB + 2 × 120 KiB = 4012 KiB, the idle ones 3772 KiB, cron 16 KiB.
/// A third N hides the columns and brings back the CPU% sort.
#[test]
fn network_totals_view() {
    let mut v = view(120, 32);
    press(&mut v, "NN");
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let (title_row, titles) = row_of(&lines, "PID USER").unwrap();
    assert!(titles.contains("NET_TOT▽ IFACE      Command"), "{titles}");
    assert!(!titles.contains("NET_RX/s"), "{titles}");
    let order: Vec<u32> = lines[title_row + 1..title_row + 11]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(order, [900, 400, 1301, 1, 350, 1200, 1300, 1500, 1600, 700]);
    let cell = |r: usize| cell_under(&lines, title_row, title_row + r, "NET_TOT▽", true);
    assert_eq!(
        [cell(1), cell(2), cell(3), cell(4), cell(10)],
        ["6144M", "290M", "4012", "3772", "16"]
    );
    assert!(text(&buf).contains("bytes since bpftop started"));
    snapshot("network_totals", &buf);

    press(&mut v, "N");
    let screen = text(&render(&v, 120, 32));
    assert!(screen.contains("CPU%▽") && !screen.contains("NET_TOT"));
    assert_eq!(v.row_process(0).unwrap().sample.pid, 900);
}

/// gG: GPU%, GMEM and (two GPUs) GPU before Command, by GPU%. From the
/// fake collector: java on both GPUs (45 % + 12.5 %, 3 GiB + 512 MiB),
/// the hostile-names process on GPU 1 (20 %, 300 MiB), nobody else. A
/// second gG hides them and brings back the CPU% sort.
#[test]
fn gpu_view() {
    let mut v = view(120, 32);
    press(&mut v, "gG");
    let buf = render(&v, 120, 32);
    let lines = lines(&buf);
    let (title_row, titles) = row_of(&lines, "PID USER").unwrap();
    assert!(titles.contains("GPU%▽  GMEM GPU     Command"), "{titles}");
    let order: Vec<u32> = lines[title_row + 1..title_row + 4]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(order, [900, 1500, 1], "then the others by pid");
    let cell = |r: usize, title, right| cell_under(&lines, title_row, title_row + r, title, right);
    assert_eq!(cell(1, "GPU%▽", true), "57.5");
    assert_eq!(cell(1, "GMEM", true), "3584M");
    assert_eq!(cell(1, "GPU ", false), "0,1");
    assert_eq!(cell(3, "GPU%▽", true), "0.0");
    assert_eq!(cell(3, "GMEM", true), "0");
    assert!(text(&buf).contains("by GPU%"));
    snapshot("gpu_view", &buf);

    press(&mut v, "gG");
    let screen = text(&render(&v, 120, 32));
    assert!(screen.contains("CPU%▽") && !screen.contains("GMEM"));
    assert_eq!(v.row_process(0).unwrap().sample.pid, 900);
}

/// The default header shows a bar per GPU after the other meters, with
/// the memory used/total after it.
#[test]
fn gpu_meters_in_the_header() {
    let v = view(100, 24);
    let buf = render(&v, 100, 24);
    let lines = lines(&buf);
    let (at, gpus) = row_of(&lines, "GPU0[").expect("GPU meters");
    assert_eq!(at, 5, "after the CPU row and the four rows of meters");
    assert!(gpus.contains("45.0%] 3.25G/23.0G"), "{gpus}");
    assert_eq!(gpus.find("GPU1["), Some(50), "{gpus}");
    assert!(gpus.contains("32.5%] 812M/8.00G"), "{gpus}");
    snapshot("gpu_meters", &buf);
}

/// Without any GPU source: no GPU row in the header, and gG says why
/// without changing the table.
#[test]
fn no_gpu_no_meter_and_gg_says_why() {
    let mut v = view(120, 32);
    let mut model = (**v.model.as_ref().unwrap()).clone();
    model.gpus.clear();
    model.gpu_status = Default::default();
    for p in &mut model.processes {
        p.gpu = None;
    }
    v.set_model(Arc::new(model));
    let before = text(&render(&v, 120, 32));
    assert!(!before.contains("GPU"), "{before}");
    assert!(before.lines().nth(4).unwrap().starts_with("Tasks:"));
    press(&mut v, "gG");
    let after = text(&render(&v, 120, 32));
    assert!(
        after.contains("no GPU: NVML: not started; DRM: not started"),
        "{after}"
    );
    assert_eq!(
        after.lines().take(16).collect::<Vec<_>>(),
        before.lines().take(16).collect::<Vec<_>>()
    );
}

/// G alone still goes to the last process, gg to the first.
#[test]
fn g_and_gg_still_move() {
    let mut v = view(120, 32);
    press(&mut v, "G");
    assert_eq!(v.cursor, v.rows.len() - 1);
    press(&mut v, "gg");
    assert_eq!(v.cursor, 0);
    press(&mut v, "G");
    assert_eq!(v.cursor, v.rows.len() - 1);
    assert_eq!(v.sort.column.id(), "CPU%");
}

/// The row above the key bar goes to the table while there is nothing to
/// say (the header names the backend); a filter or a message takes it back.
#[test]
fn status_line_only_when_there_is_something_to_say() {
    let mut v = view(80, 24);
    let lines_of = |v: &ViewState| lines(&render(v, 80, 24));
    let quiet = lines_of(&v);
    assert!(quiet[23].starts_with("F1Help"));
    assert!(
        quiet.iter().all(|l| l.trim() != "eBPF"),
        "a line only naming the backend:\n{}",
        quiet.join("\n")
    );
    assert!(quiet.iter().any(|l| l.contains("Backend: eBPF")));
    let titles = row_of(&quiet, "PID USER").unwrap().0;
    let table_rows = 23 - (titles + 1);

    press(&mut v, "\\java");
    key(&mut v, KeyCode::Enter);
    let filtered = lines_of(&v);
    assert_eq!(filtered[22].trim_end(), "filter: java");
    assert!(filtered[23].starts_with("F1Help"));
    assert_eq!(
        layout(Rect::new(0, 0, 80, 24), &v).table.height as usize,
        table_rows - 1
    );
}

/// gG on a machine without GPUs: the reasons this machine's collector
/// gives, said in one line that fits 80 columns whole.
#[test]
fn no_gpu_message_fits_80_columns() {
    let mut v = view(80, 24);
    let mut model = (**v.model.as_ref().unwrap()).clone();
    model.gpus.clear();
    model.gpu_status.nvml = Err("libnvidia-ml.so.1 not found (no NVIDIA driver): \
        libnvidia-ml.so.1: cannot open shared object file: No such file or directory"
        .into());
    model.gpu_status.drm =
        Err("no DRM devices (/sys/class/drm lists no card or render node)".into());
    v.set_model(Arc::new(model));
    press(&mut v, "gG");
    let lines = lines(&render(&v, 80, 24));
    assert_eq!(
        lines[22].trim_end(),
        "no GPU: NVML: libnvidia-ml.so.1 not found; DRM: no DRM devices (bpftop --check)"
    );
}

/// Without systemd or containers (every process in the root cgroup), O
/// says so instead of opening an empty chooser; o says the UNIT column it
/// changes is hidden, and only what it changed once the column is shown.
#[test]
fn o_and_shift_o_say_what_happened() {
    let mut v = view(80, 24);
    let mut model = (**v.model.as_ref().unwrap()).clone();
    for p in &mut model.processes {
        p.sample.cgroup = Some("/".into());
        p.cgroup = None;
    }
    v.set_model(Arc::new(model));
    press(&mut v, "O");
    assert!(v.dialog.is_none());
    let lines_now = lines(&render(&v, 80, 24));
    assert_eq!(
        lines_now[22].trim_end(),
        "no systemd unit or container here: no process's cgroup names one"
    );

    press(&mut v, "o");
    let said = lines(&render(&v, 80, 24))[22].trim_end().to_owned();
    assert_eq!(
        said,
        "UNIT shows the cgroup path, but the UNIT column is hidden (F2 adds it)"
    );
    v.columns.insert(1, bpftop::ui::columns::Column::Unit);
    press(&mut v, "o");
    let said = lines(&render(&v, 80, 24))[22].trim_end().to_owned();
    assert_eq!(said, "UNIT shows services only");
}

/// Z holds new models back (the list stays, keys still move on it) and
/// says PAUSED in the key bar; Z again shows the newest model. `#` hides
/// the meters, `p` the program's directory.
#[test]
fn pause_hide_meters_and_program_path() {
    let mut v = view(120, 32);
    let before = text(&render(&v, 120, 32));
    assert!(before.contains("/usr/sbin/cron -f"), "{before}");
    press(&mut v, "Z");
    let mut changed = (**v.model.as_ref().unwrap()).clone();
    changed.processes.retain(|p| p.sample.pid != 700);
    assert!(!v.receive_model(Arc::new(changed)));
    press(&mut v, "j");
    assert_eq!(v.cursor, 1, "keys work on the paused list");
    let paused = render(&v, 120, 32);
    let paused_lines = lines(&paused);
    assert!(text(&paused).contains("/usr/sbin/cron -f"), "still shown");
    assert!(paused_lines.last().unwrap().trim_end().ends_with("PAUSED"));
    press(&mut v, "#p");
    let bare = render(&v, 120, 32);
    let bare_lines = lines(&bare);
    // No meters: the screen tabs, then the column titles, at the top.
    assert!(bare_lines[0].contains("[Main]"), "{}", bare_lines[0]);
    assert!(bare_lines[1].contains("PID USER"), "{}", bare_lines[1]);
    assert!(!text(&bare).contains("Tasks:"));
    assert!(text(&bare).contains(" cron -f"));
    assert!(!text(&bare).contains("/usr/sbin/cron"));
    snapshot("paused_no_meters_no_path", &bare);
    press(&mut v, "Z");
    let resumed = text(&render(&v, 120, 32));
    assert!(
        !resumed.contains("cron -f"),
        "the held model shows: {resumed}"
    );
    assert!(!resumed.contains("PAUSED"));
    press(&mut v, "#p");
    assert!(text(&render(&v, 120, 32)).contains("Tasks:"));
}

/// A panel as the event loop fills it: e returns the selected process's
/// panel to fill; its lines are drawn made safe, searched with / and n.
fn opened_panel(v: &mut ViewState, keys: &str) -> bpftop::ui::state::panel::Panel {
    match press(v, keys) {
        Effect::Inspect(panel) => panel,
        other => panic!("{keys}: {other:?}"),
    }
}

#[test]
fn environment_panel_searches_and_neutralises() {
    use bpftop::ui::dialogs::Dialog;
    let mut v = view(100, 16);
    let mut panel = opened_panel(&mut v, "e");
    let pid = v.selected().unwrap().sample.pid;
    assert_eq!(panel.key.pid, pid);
    panel.set_lines([
        b"HOME=/root".to_vec(),
        b"EVIL=\x1b]52;c;cHdu\x07\x1b[2J".to_vec(),
        b"LANG=C.UTF-8".to_vec(),
        b"PATH=/usr/bin".to_vec(),
        b"TERM=xterm".to_vec(),
    ]);
    v.dialog = Some(Dialog::Panel(panel));
    press(&mut v, "/lang");
    key(&mut v, KeyCode::Enter);
    let buf = render(&v, 100, 16);
    let screen = text(&buf);
    assert!(
        screen.contains(&format!("Environment of PID {pid}")),
        "{screen}"
    );
    assert!(screen.contains("EVIL=?]52;c;cHdu??[2J"), "{screen}");
    assert!(!screen.contains('\x1b'));
    let Some(Dialog::Panel(p)) = &v.dialog else {
        panic!("closed")
    };
    assert_eq!(p.found, Some(2));
    snapshot("environment_panel", &buf);
    key(&mut v, KeyCode::Esc);
    assert!(v.dialog.is_none());
}

#[test]
fn open_files_and_trace_panels() {
    use bpftop::ui::dialogs::Dialog;
    let mut v = view(100, 12);
    let mut files = opened_panel(&mut v, "l");
    files.header = Some(format!("{:>5} {:<7} NAME", "FD", "TYPE"));
    files.set_lines([
        b"  cwd DIR     /srv".to_vec(),
        b"    3 TCP     127.0.0.1:8080 (LISTEN)".to_vec(),
        b"    4 UNIX    /run/a.sock".to_vec(),
    ]);
    v.dialog = Some(Dialog::Panel(files));
    let buf = render(&v, 100, 12);
    assert!(text(&buf).contains("   FD TYPE    NAME"));
    snapshot("open_files_panel", &buf);
    key(&mut v, KeyCode::Esc);

    let mut trace = opened_panel(&mut v, "s");
    trace.fail("strace is not installed: install it (the strace package) to trace system calls");
    v.dialog = Some(Dialog::Panel(trace));
    let buf = render(&v, 100, 12);
    assert!(text(&buf).contains("System calls of PID"));
    assert!(text(&buf).contains("strace is not installed"));
    snapshot("trace_panel_without_strace", &buf);
}

/// The pid on screen row `row` (a table line starts with its pid).
fn pid_of_line(line: &str) -> Option<u32> {
    line.split_whitespace().next()?.parse().ok()
}

/// ← → scroll the table sideways when it is wider than the screen, 5
/// columns a step, as htop does: at 80 columns the sshd command line
/// (57 characters) does not fit beside the fixed columns, and → brings its
/// end into view, no further; ← goes back to the start.
#[test]
fn left_and_right_scroll_a_wide_table() {
    let mut v = view(80, 24);
    v.page_width = 80;
    let sshd = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups";
    let before = lines(&render(&v, 80, 24));
    let (title_row, titles) = row_of(&before, "PID USER").unwrap();
    assert!(titles.starts_with("    PID USER"));
    let sshd_row = before
        .iter()
        .position(|l| pid_of_line(l) == Some(400))
        .unwrap();
    assert!(!before[sshd_row].contains("startups"), "cut at 80 columns");
    key(&mut v, KeyCode::Right);
    let after = lines(&render(&v, 80, 24));
    assert_eq!(
        after[title_row],
        format!("{:<80}", &before[title_row][5..]),
        "5 columns"
    );
    for _ in 0..40 {
        key(&mut v, KeyCode::Right);
    }
    let far = lines(&render(&v, 80, 24));
    let line = far[sshd_row].trim_end();
    assert!(line.ends_with("10-100 startups"), "{line}");
    let end = line.chars().count();
    assert!(
        (78..=80).contains(&end),
        "scrolled no further than the end: {end}"
    );
    for _ in 0..40 {
        key(&mut v, KeyCode::Left);
    }
    assert_eq!(lines(&render(&v, 80, 24)), before);
    // A table that fits does not scroll.
    let mut wide = view(200, 24);
    wide.page_width = 200;
    let fits = lines(&render(&wide, 200, 24));
    key(&mut wide, KeyCode::Right);
    assert_eq!(lines(&render(&wide, 200, 24)), fits);
    assert!(fits.iter().any(|l| l.contains(sshd)));
}

/// w: the selected process's whole command line, wrapped at argument
/// boundaries in a box; escapes and invalid bytes shown as '?' and U+FFFD
/// (as everything drawn); Esc closes it.
#[test]
fn w_shows_the_whole_command_line_wrapped() {
    let mut v = view(40, 20);
    v.page_width = 40;
    while v.selected().unwrap().sample.pid != 400 {
        press(&mut v, "j");
    }
    press(&mut v, "w");
    let screen = lines(&render(&v, 40, 20));
    let boxed: Vec<String> = screen
        .iter()
        .filter_map(|l| {
            let inner = l.split('│').nth(1)?;
            Some(inner.trim().to_owned())
        })
        .filter(|l| !l.is_empty())
        .collect();
    // 36 columns inside the box at 40, cut between words.
    assert_eq!(
        boxed,
        ["sshd: /usr/sbin/sshd -D [listener] 0", "of 10-100 startups"]
    );
    assert!(text(&render(&v, 40, 20)).contains("Command line of PID 400"));
    snapshot("command_line", &render(&v, 40, 20));
    key(&mut v, KeyCode::Esc);
    assert!(v.dialog.is_none());

    while v.selected().unwrap().sample.pid != 1500 {
        press(&mut v, "j");
    }
    press(&mut v, "w");
    let shown = text(&render(&v, 40, 20));
    assert!(
        shown.contains("./?]0;pwned?名前 --opt=\u{fffd}\u{fffd}"),
        "{shown}"
    );
    assert!(!shown.contains('\x1b') && !shown.contains('\x07'));
}

/// A cgroup2 tree on disk holding the demo machine's cgroups with the
/// files the units table reads; app.service is limited and throttled.
struct CgroupFixture(std::path::PathBuf);

impl CgroupFixture {
    fn new(paths: &[&str]) -> CgroupFixture {
        let root = std::env::temp_dir().join(format!("bpftop-units-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        for path in paths {
            let dir = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(&dir).unwrap();
            let app = path.ends_with("app.service");
            let psi = |avg10: &str| {
                format!(
                    "some avg10={avg10} avg60=0.00 avg300=0.00 total=1\n\
                     full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                )
            };
            let files = [
                ("cgroup.procs", String::new()),
                ("cpu.pressure", psi(if app { "35.20" } else { "0.00" })),
                ("memory.pressure", psi(if app { "4.50" } else { "0.00" })),
                ("io.pressure", psi("0.10")),
                (
                    "cpu.max",
                    (if app {
                        "20000 100000\n"
                    } else {
                        "max 100000\n"
                    })
                    .to_owned(),
                ),
                (
                    "memory.max",
                    (if app { "536870912\n" } else { "max\n" }).to_owned(),
                ),
                ("memory.high", "max\n".to_owned()),
                (
                    "memory.events",
                    (if app {
                        "low 0\nhigh 12\nmax 0\noom 1\noom_kill 1\n"
                    } else {
                        "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"
                    })
                    .to_owned(),
                ),
            ];
            for (name, text) in files {
                std::fs::write(dir.join(name), text).unwrap();
            }
            CgroupFixture::set_throttled(&dir, 1_000_000);
        }
        CgroupFixture(root)
    }

    fn set_throttled(dir: &std::path::Path, usec: u64) {
        let text = format!(
            "usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\n\
             nr_periods 100\nnr_throttled 80\nthrottled_usec {usec}\n"
        );
        std::fs::write(dir.join("cpu.stat"), text).unwrap();
    }
}

impl Drop for CgroupFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// gu: one row per unit with its cgroup's facts; Enter shows only the
/// selected unit's processes; gu again closes.
#[test]
fn units_view_lists_units_with_their_cgroup_facts() {
    let mut collector = FakeCollector::new(demo_processes());
    let mut first = collector.collect().unwrap();
    let mut second = collector.collect().unwrap();
    let mut paths: Vec<&str> = first
        .processes
        .iter()
        .filter_map(|p| p.cgroup.as_deref())
        .filter(|c| *c != "/")
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let fixture = CgroupFixture::new(&paths);
    let mut catalog = Catalog::new(std::path::Path::new("/nonexistent"), Some(&fixture.0));
    first.cgroups = catalog.describe(&first.processes);
    // Between the two refreshes app.service is throttled for a further
    // quarter of the interval.
    let dt_usec = (second.boottime_ns - first.boottime_ns) / 1000;
    CgroupFixture::set_throttled(
        &fixture.0.join("system.slice/app.service"),
        1_000_000 + dt_usec / 4,
    );
    second.cgroups = catalog.describe(&second.processes);
    // The files were read on the real clock, milliseconds apart; pin their
    // read times to the fake refreshes' clock.
    for sample in [&mut first, &mut second] {
        let at = sample.boottime_ns;
        for facts in sample.cgroups.values_mut() {
            if let Some(unit) = facts.unit.as_mut() {
                let mut stats = (*unit.stats).clone();
                stats.read_ns = at;
                unit.stats = Arc::new(stats);
            }
        }
    }
    let model = Model::new(&second, Some(&first), None, &demo_user_name);
    let mut v = ViewState::new(Theme::mono());
    v.backend_label = "eBPF".to_owned();
    v.page_rows = layout(Rect::new(0, 0, 120, 24), &v).table.height.max(1) as usize;
    v.set_model(Arc::new(model));

    press(&mut v, "gu");
    assert!(
        matches!(v.dialog, Some(bpftop::ui::dialogs::Dialog::Units(_))),
        "gu opens the units table"
    );
    let buf = render(&v, 120, 24);
    let screen = lines(&buf);
    let (at, app) = row_of(&screen, "app.service").expect("app.service has a row");
    for expected in [
        " 0.20 ", " 512M ", " 35.2 ", " 4.5 ", " 25.0 ", "  1 ", " 12 ",
    ] {
        assert!(app.contains(expected), "{expected:?} missing from {app:?}");
    }
    let (_, cron) = row_of(&screen, "cron.service").expect("cron.service has a row");
    assert!(cron.contains(" max "), "{cron:?}");
    snapshot("units_view", &buf);

    // Select app.service's row (rows start two lines below the border) and
    // show its processes.
    let title_row = row_of(&screen, "PROCS").unwrap().0;
    for _ in 0..(at - title_row - 1) {
        press(&mut v, "j");
    }
    key(&mut v, KeyCode::Enter);
    assert!(v.dialog.is_none());
    assert!(!v.rows.is_empty());
    for r in 0..v.rows.len() {
        let p = v.row_process(r).unwrap();
        assert_eq!(
            p.sample.cgroup.as_deref(),
            Some("/system.slice/app.service")
        );
    }
    press(&mut v, "gu");
    press(&mut v, "gu");
    assert!(v.dialog.is_none(), "gu again closes the table");
}

/// With the option on, inside a cgroup limited to half a CPU and 1 GiB,
/// the CPU meter shows the cgroup's use of its quota and the memory meter
/// its use of its limit; with the option off, the machine's.
#[test]
fn meters_scale_to_own_cgroup_limits() {
    use bpftop::collect::sample::OwnCgroup;
    let mut collector = FakeCollector::new(demo_processes());
    let mut first = collector.collect().unwrap();
    let mut second = collector.collect().unwrap();
    let own = |usage_ns: u64, read_ns: u64| OwnCgroup {
        cpu_limit_cpus: Some(0.5),
        cpu_usage_ns: Some(usage_ns),
        memory_limit_bytes: Some(1 << 30),
        memory_usage_bytes: Some(600 << 20),
        memory_cache_bytes: Some(88 << 20),
        read_ns,
    };
    // 0.2 s of CPU in 1 s under half a CPU: 40 % of the limit.
    first.system.own_cgroup = own(1_000_000_000, 5_000_000_000);
    second.system.own_cgroup = own(1_200_000_000, 6_000_000_000);
    let model = Arc::new(Model::new(&second, Some(&first), None, &demo_user_name));
    let mut v = ViewState::new(Theme::mono());
    v.set_model(Arc::clone(&model));
    let mem_line = |v: &ViewState| {
        let screen = lines(&render(v, 120, 30));
        screen.into_iter().find(|l| l.starts_with("Mem[")).unwrap()
    };
    let host = mem_line(&v);
    assert!(host.contains("/16.0G]"), "{host}");
    v.set_meters_to_limits(true);
    let limited = mem_line(&v);
    assert!(limited.contains("512M/1.00G]"), "{limited}");
    let avg = lines(&render(&v, 120, 30))
        .into_iter()
        .find(|l| l.starts_with("Avg["))
        .unwrap();
    assert!(avg.contains("40.0%]"), "{avg}");
}

#[test]
fn affinity_checklist_and_io_priority_list() {
    use bpftop::ui::state::dialogs::{affinity_dialog, io_priority_dialog};
    let mut v = view(120, 32);
    press(&mut v, "/vim");
    key(&mut v, KeyCode::Enter);
    // `a` asks the event loop to read the current affinity first.
    let targets = match press(&mut v, "a") {
        Effect::OpenAffinity { targets } => targets,
        other => panic!("expected the affinity to be read, got {other:?}"),
    };
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].pid, 1300);
    // The demo machine's two CPUs; the process may run on CPU 1 only.
    v.dialog = Some(affinity_dialog(&v, targets.clone(), &[1]));
    let buf = render(&v, 120, 32);
    let screen = text(&buf);
    assert!(screen.contains("Use CPUs (1 process)"), "{screen}");
    assert!(screen.contains("[ ] CPU 0") && screen.contains("[x] CPU 1"));
    snapshot("affinity", &buf);
    press(&mut v, " ");
    assert!(text(&render(&v, 120, 32)).contains("[x] CPU 0"));
    match key(&mut v, KeyCode::Enter) {
        Effect::SetAffinity { targets: t, cpus } => {
            assert_eq!((t, cpus), (targets.clone(), vec![0, 1]));
        }
        other => panic!("expected the affinity to be set, got {other:?}"),
    }

    assert!(matches!(press(&mut v, "i"), Effect::OpenIoPriority { .. }));
    v.dialog = Some(io_priority_dialog(targets, None));
    let buf = render(&v, 120, 32);
    let screen = text(&buf);
    assert!(screen.contains("I/O priority of 1 process"), "{screen}");
    assert!(screen.contains("None (based on nice)") && screen.contains("Realtime 0 (High)"));
    snapshot("io_priority", &buf);
}

#[test]
fn io_screen_has_its_own_columns_and_sort() {
    let mut v = view(120, 32);
    let main = lines(&render(&v, 120, 32));
    let tabs = main
        .iter()
        .position(|l| l.contains("[Main] [I/O]"))
        .unwrap();
    assert!(main[tabs + 1].contains("CPU%▽"), "{}", main[tabs + 1]);
    key(&mut v, KeyCode::Tab);
    let buf = render(&v, 120, 32);
    let io = lines(&buf);
    let titles = &io[tabs + 1];
    for title in [
        "PID",
        "USER",
        "IO",
        "DISK R/W▽",
        "DISK R/s",
        "DISK W/s",
        "Command",
    ] {
        assert!(titles.contains(title), "{title} in {titles}");
    }
    assert!(!titles.contains("CPU%"), "{titles}");
    // Busiest first: java reads 64 KiB/s and writes 16 KiB/s in the demo;
    // with no I/O class, nice 7 gives it best-effort level 5.
    let java = &io[tabs + 2];
    assert!(java.contains("java") && java.contains("80K"), "{java}");
    assert!(java.contains(" B5 "), "{java}");
    snapshot("io_screen", &buf);
    // A sort chosen here stays here.
    press(&mut v, "I");
    key(&mut v, KeyCode::BackTab);
    assert!(lines(&render(&v, 120, 32))[tabs + 1].contains("CPU%▽"));
    key(&mut v, KeyCode::Tab);
    assert!(lines(&render(&v, 120, 32))[tabs + 1].contains("DISK R/W△"));
}

/// An exit for the exited screen's tests: born `life_ms` before it ended
/// `ago_ms` before the refresh at `now_ns`.
#[allow(clippy::too_many_arguments)]
fn exit_record(
    now_ns: u64,
    (pid, ppid, comm, argv): (u32, u32, &str, &[&str]),
    (life_ms, ago_ms, cpu_ms): (u64, u64, u64),
    status: bpftop::collect::sample::ExitStatus,
    oom_killed: bool,
    cgroup: &str,
) -> bpftop::collect::sample::ExitedProcess {
    let ms = 1_000_000;
    let exit_time_ns = now_ns - ago_ms * ms;
    bpftop::collect::sample::ExitedProcess {
        pid,
        ppid,
        uid: 0,
        comm: comm.as_bytes().into(),
        cmdline: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        start_time_ns: exit_time_ns - life_ms * ms,
        exit_time_ns,
        utime_ns: cpu_ms * ms * 3 / 4,
        stime_ns: cpu_ms * ms / 4,
        peak_rss_bytes: 6 << 20,
        minflt: 0,
        majflt: 0,
        io: Default::default(),
        net: None,
        cgroup: Some(cgroup.into()),
        status,
        oom_killed,
    }
}

/// The demo machine whose last refresh reported these exits: a clean
/// cron job, a worker of app.service failing again and again (a crash
/// loop), an OOM kill, a segfault with a core and a terminated sleep.
fn view_with_exits(width: u16, height: u16) -> ViewState {
    use bpftop::collect::sample::{ExitCapture, ExitHook, ExitStatus, Exits};
    let mut collector = FakeCollector::new(demo_processes());
    let first = collector.collect().unwrap();
    let mut second = collector.collect().unwrap();
    second.cgroups =
        Catalog::new(std::path::Path::new("/nonexistent"), None).describe(&second.processes);
    let now = second.boottime_ns;
    let app = "/system.slice/app.service";
    let session = "/user.slice/user-1000.slice/session-3.scope";
    let signal = |signal, core_dumped| ExitStatus::Signal {
        signal,
        core_dumped,
    };
    let mut processes = vec![exit_record(
        now,
        (2001, 700, "run-parts", &["run-parts", "/etc/cron.hourly"]),
        (1200, 900, 40),
        ExitStatus::Code(0),
        false,
        "/system.slice/cron.service",
    )];
    for i in 0..4u32 {
        processes.push(exit_record(
            now,
            (2100 + i, 1, "worker", &["/opt/app/worker", "--serve"]),
            (80, 800 - 200 * u64::from(i), 30),
            ExitStatus::Code(3),
            false,
            app,
        ));
    }
    processes.extend([
        exit_record(
            now,
            (2200, 1200, "convert", &["convert", "huge.tif", "out.png"]),
            (7300, 500, 6100),
            signal(9, false),
            true,
            session,
        ),
        exit_record(
            now,
            (2300, 1200, "crashy", &[]),
            (20, 300, 10),
            signal(11, true),
            false,
            session,
        ),
        exit_record(
            now,
            (2400, 1200, "sleep", &["sleep", "600"]),
            (95_000, 100, 1),
            signal(15, false),
            false,
            session,
        ),
    ]);
    second.exits = Exits {
        capture: ExitCapture::On {
            hook: ExitHook::GroupDead,
            oom: true,
            final_cpu: true,
        },
        processes,
        dropped: 0,
        // The workers' and crashy's execs (their runs started in the
        // interval), and a process of init's that execs again.
        execs: [
            (2100, 1),
            (2101, 1),
            (2102, 1),
            (2103, 1),
            (2300, 1200),
            (900, 1),
        ]
        .into_iter()
        .map(|(pid, ppid)| bpftop::collect::sample::ExecEvent {
            pid,
            ppid,
            cgroup: None,
        })
        .collect(),
        ..Default::default()
    };
    let model = Model::new(&second, Some(&first), None, &demo_user_name);
    let mut view = ViewState::new(Theme::mono());
    view.backend_label = "eBPF".to_owned();
    view.page_rows = layout(Rect::new(0, 0, width, height), &view)
        .table
        .height
        .max(1) as usize;
    view.receive_model(Arc::new(model));
    view
}

/// X lists the exits, newest first, with how each ended (the OOM kill
/// named in text), its lifetime, CPU, peak memory and unit; the crash loop
/// shows as a count of failures; E, P and L sort; X again closes.
#[test]
fn exited_screen_lists_exits_and_sorts() {
    let mut v = view_with_exits(140, 20);
    press(&mut v, "X");
    assert!(
        matches!(v.dialog, Some(bpftop::ui::dialogs::Dialog::Exited(_))),
        "X opens the exited screen"
    );
    let buf = render(&v, 140, 20);
    let screen = lines(&buf);
    assert!(
        screen[0].contains("Exited: 8 in the last 40 refreshes"),
        "{}",
        screen[0]
    );
    let titles = row_of(&screen, "PPID").expect("column titles").0;
    // Newest first: the sleep ended 0.1 s before the refresh.
    assert!(screen[titles + 1].contains("sleep 600"), "{screen:#?}");
    let (_, oom) = row_of(&screen, "convert huge.tif").unwrap();
    for expected in [
        " 2200 ",
        " 1200 ",
        "7.3s",
        "0:06.10",
        "OOM KILL",
        "session-3.scope",
    ] {
        assert!(oom.contains(expected), "{expected:?} missing from {oom:?}");
    }
    let (_, segv) = row_of(&screen, "[crashy]").unwrap();
    assert!(
        segv.contains("SIGSEGV core") && segv.contains("20ms"),
        "{segv:?}"
    );
    assert!(row_of(&screen, "SIGTERM").unwrap().1.contains("95.0s"));
    let workers: Vec<&String> = screen.iter().filter(|l| l.contains("worker")).collect();
    assert_eq!(workers.len(), 4, "{screen:#?}");
    for w in &workers {
        // Four failures of one program under one parent in one unit.
        assert!(w.contains(" 3 ") && w.contains("     4 "), "{w:?}");
        assert!(w.contains("app.service"), "{w:?}");
    }
    let clean = row_of(&screen, "run-parts").unwrap().1;
    assert!(
        clean.contains("cron.service") && clean.contains("    - "),
        "{clean:?}"
    );
    snapshot("exited_view", &buf);

    // E: the worst ending first (the OOM kill, then signals by number).
    press(&mut v, "E");
    let screen = lines(&render(&v, 140, 20));
    let titles = row_of(&screen, "EXIT▼").expect("sorted by EXIT").0;
    assert!(screen[titles + 1].contains("OOM KILL"), "{screen:#?}");
    assert!(screen[titles + 2].contains("SIGTERM"), "{screen:#?}");
    // P: the most CPU first.
    press(&mut v, "P");
    let screen = lines(&render(&v, 140, 20));
    assert!(screen[titles + 1].contains("convert"), "{screen:#?}");
    // L: the longest life first.
    press(&mut v, "L");
    let screen = lines(&render(&v, 140, 20));
    assert!(screen[titles + 1].contains("sleep"), "{screen:#?}");
    press(&mut v, "X");
    assert!(v.dialog.is_none(), "X again closes");
}

/// Where exits are not captured the screen says why in one line, with the
/// reason the sample carries.
#[test]
fn exited_screen_says_why_it_is_empty() {
    let mut v = view(100, 12);
    // The fake collector captures no exits; the model arrives as the event
    // loop hands it over.
    let model = v.model.clone().unwrap();
    v.receive_model(model);
    press(&mut v, "X");
    let buf = render(&v, 100, 12);
    let screen = lines(&buf);
    let reasons: Vec<&String> = screen
        .iter()
        .filter(|l| l.contains("Exits are not captured: not measured by this backend"))
        .collect();
    assert_eq!(reasons.len(), 1, "{screen:#?}");
    snapshot("exited_off", &buf);
}

/// The children's columns: children exited per second on the parent's row
/// over the refresh's interval (one second here), the CPU they used that no
/// row showed, children started (those born within the interval) and their
/// execs per second; "-" where exits are not captured.
#[test]
fn exited_children_columns() {
    use bpftop::ui::columns::Column;
    let ids = [
        "PID",
        "CHILD_EXITS",
        "CHILD_EXITED_CPU",
        "CHILD_FORKS",
        "CHILD_EXECS",
        "Command",
    ];
    let columns: Vec<Column> = ids.iter().map(|id| Column::from_id(id).unwrap()).collect();
    let mut v = view_with_exits(100, 16);
    v.columns = columns.clone();
    v.rebuild();
    let screen = lines(&render(&v, 100, 16));
    let cells = |pid: &str| -> Vec<String> {
        let (_, line) = screen
            .iter()
            .enumerate()
            .find(|(_, l)| l.split_whitespace().next() == Some(pid))
            .unwrap_or_else(|| panic!("no row for {pid}: {screen:#?}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // systemd's four workers, bash's three, cron's one run-parts (40 ms).
    assert_eq!(cells("1")[1], "4.0");
    assert_eq!(cells("1200")[1], "3.0");
    assert_eq!(cells("700")[1..3], ["1.0", "4.0"]);
    assert_eq!(cells("1301")[1..3], ["0.0", "0.0"]);
    // Started within the interval: the four workers (80 ms lives, gone at
    // most 800 ms ago) and crashy; run-parts, convert and sleep are older.
    assert_eq!(cells("1")[3..5], ["4.0", "5.0"]);
    assert_eq!(cells("1200")[3..5], ["1.0", "1.0"]);
    assert_eq!(cells("700")[3..5], ["0.0", "0.0"]);
    let mut off = view(100, 16);
    off.columns = columns;
    off.rebuild();
    let screen = lines(&render(&off, 100, 16));
    let row = screen.iter().find(|l| l.contains("cron")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>()[1..5],
        ["-", "-", "-", "-"]
    );
}

/// While updates are paused (Z) the exited screen stays as it was, and the
/// exits that arrived meanwhile are shown on resuming, none lost.
#[test]
fn exited_screen_holds_while_paused() {
    let mut v = view_with_exits(140, 20);
    let mut later = (**v.model.as_ref().unwrap()).clone();
    later.exits.processes.truncate(1);
    later.exits.processes[0].process.pid = 4242;
    press(&mut v, "Z");
    v.receive_model(Arc::new(later));
    press(&mut v, "X");
    let screen = text(&render(&v, 140, 20));
    assert!(screen.contains("Exited: 8 "), "{screen}");
    assert!(!screen.contains(" 4242 "), "{screen}");
    press(&mut v, "XZX");
    let screen = text(&render(&v, 140, 20));
    assert!(
        screen.contains("Exited: 9 ") && screen.contains(" 4242 "),
        "{screen}"
    );
}
