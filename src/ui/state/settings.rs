//! Between the config file, the command line and the view state.

use std::collections::HashSet;

use crate::config::Config;
use crate::ui::columns::Column;
use crate::ui::header::Meter;
use crate::ui::rows::SortSpec;
use crate::ui::state::screens::{ScreenSettings, IO_SCREEN, MAIN_SCREEN};
use crate::ui::state::view::ViewState;
use crate::ui::theme::Theme;

/// Command-line settings that override the config file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub delay_ms: Option<u64>,
    pub tree: bool,
    pub user: Option<(u32, String)>,
    pub pids: Option<HashSet<u32>>,
    pub sort_key: Option<Column>,
    pub no_mouse: bool,
    pub theme: Option<Theme>,
}

/// The view the config and command line describe, and a warning for each
/// config value that was not understood (the rest still applies).
pub fn view_from(config: &Config, overrides: &Overrides) -> (ViewState, Vec<String>) {
    let mut warnings = Vec::new();
    let theme = overrides.theme.clone().unwrap_or_else(|| {
        Theme::by_name(&config.theme).unwrap_or_else(|| {
            warnings.push(format!("config: unknown theme \"{}\"", config.theme));
            Theme::default_theme()
        })
    });
    let mut view = ViewState::new(theme);
    let columns = known_ids(&config.columns, Column::from_id, "column", &mut warnings);
    if !columns.is_empty() {
        view.columns = columns;
    }
    view.meters = known_ids(
        &config.header_meters,
        Meter::from_id,
        "meter",
        &mut warnings,
    );
    let sort_column = overrides.sort_key.or_else(|| {
        let column = Column::from_id(&config.sort_key);
        if column.is_none() {
            warnings.push(format!("config: unknown sort key \"{}\"", config.sort_key));
        }
        column
    });
    if let Some(column) = sort_column {
        view.sort = SortSpec {
            column,
            descending: if overrides.sort_key.is_some() {
                column.default_descending()
            } else {
                config.sort_descending
            },
        };
    }
    let io_columns = known_ids(&config.io_columns, Column::from_id, "column", &mut warnings);
    let mut io = ScreenSettings::io_default();
    if !io_columns.is_empty() {
        io.columns = io_columns;
    }
    match Column::from_id(&config.io_sort_key) {
        Some(column) => {
            io.sort = SortSpec {
                column,
                descending: config.io_sort_descending,
            }
        }
        None => warnings.push(format!(
            "config: unknown sort key \"{}\"",
            config.io_sort_key
        )),
    }
    view.set_screen_settings(IO_SCREEN, io);
    view.tree = config.tree || overrides.tree;
    view.delay_ms = overrides.delay_ms.unwrap_or(config.delay_ms);
    view.rewind_minutes = config.rewind_minutes;
    view.show_kernel_threads = config.show_kernel_threads;
    view.show_threads = config.show_threads;
    view.aggregate_folded = config.aggregate_folded;
    view.set_meters_to_limits(config.meters_to_limits);
    view.set_exit_refreshes(config.exited_refreshes);
    view.mouse = config.mouse && !overrides.no_mouse;
    view.user_filter = overrides.user.clone();
    view.pid_filter = overrides.pids.clone();
    (view, warnings)
}

/// The items named by `ids`, with a warning for each unknown name.
fn known_ids<T>(
    ids: &[String],
    from_id: impl Fn(&str) -> Option<T>,
    what: &str,
    warnings: &mut Vec<String>,
) -> Vec<T> {
    ids.iter()
        .filter_map(|id| {
            let item = from_id(id);
            if item.is_none() {
                warnings.push(format!("config: unknown {what} \"{id}\""));
            }
            item
        })
        .collect()
}

/// What the setup screen saves: the view's settings, except those the
/// command line imposed for this run, which keep the config's values.
pub fn config_to_save(view: &ViewState, base: &Config, overrides: &Overrides) -> Config {
    let mut config = config_from(view);
    if overrides.delay_ms.is_some() {
        config.delay_ms = base.delay_ms;
    }
    if overrides.tree {
        config.tree = base.tree;
    }
    if overrides.sort_key.is_some() {
        config.sort_key = base.sort_key.clone();
        config.sort_descending = base.sort_descending;
    }
    if overrides.no_mouse {
        config.mouse = base.mouse;
    }
    if overrides.theme.is_some() {
        config.theme = base.theme.clone();
    }
    config
}

/// The config that reproduces the view's settings (the configured columns
/// and sort, without the network and GPU views').
pub fn config_from(view: &ViewState) -> Config {
    let main = view
        .screen_settings(MAIN_SCREEN)
        .unwrap_or_else(ScreenSettings::main_default);
    let io = view
        .screen_settings(IO_SCREEN)
        .unwrap_or_else(ScreenSettings::io_default);
    Config {
        io_columns: io.columns.iter().map(|c| c.id().to_owned()).collect(),
        io_sort_key: io.sort.column.id().to_owned(),
        io_sort_descending: io.sort.descending,
        columns: main.columns.iter().map(|c| c.id().to_owned()).collect(),
        sort_key: main.sort.column.id().to_owned(),
        sort_descending: main.sort.descending,
        tree: view.tree,
        delay_ms: view.delay_ms,
        theme: view.theme.name.to_owned(),
        header_meters: view.meters.iter().map(|m| m.id().to_owned()).collect(),
        show_kernel_threads: view.show_kernel_threads,
        show_threads: view.show_threads,
        mouse: view.mouse,
        aggregate_folded: view.aggregate_folded,
        meters_to_limits: view.meters_to_limits(),
        exited_refreshes: view.exit_history().keep(),
        rewind_minutes: view.rewind_minutes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_and_config_round_trip() {
        let config = Config {
            columns: vec!["PID".into(), "RES".into(), "Command".into()],
            sort_key: "RES".into(),
            sort_descending: false,
            io_columns: vec!["PID".into(), "IO_PRIORITY".into(), "IO_READ".into()],
            io_sort_key: "IO_READ".into(),
            io_sort_descending: false,
            tree: true,
            delay_ms: 2500,
            theme: "mono".into(),
            header_meters: vec!["cpu".into(), "memory".into()],
            show_kernel_threads: true,
            show_threads: false,
            mouse: false,
            aggregate_folded: false,
            meters_to_limits: true,
            exited_refreshes: 9,
            rewind_minutes: 0,
        };
        let (view, warnings) = view_from(&config, &Overrides::default());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config_from(&view), config);
    }

    #[test]
    fn each_screen_is_saved_whichever_is_on_show() {
        let (mut view, _) = view_from(&Config::default(), &Overrides::default());
        view.switch_screen(1);
        view.sort_or_invert(Column::Pid);
        let saved = config_from(&view);
        assert_eq!(saved.sort_key, "CPU%", "the Main screen's");
        assert_eq!(
            (saved.io_sort_key.as_str(), saved.io_sort_descending),
            ("PID", false)
        );
        let (again, warnings) = view_from(&saved, &Overrides::default());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config_from(&again), saved);
    }

    #[test]
    fn command_line_overrides_are_not_saved() {
        let base = Config::default();
        let overrides = Overrides {
            delay_ms: Some(20),
            tree: true,
            sort_key: Some(Column::Pid),
            no_mouse: true,
            theme: Some(Theme::mono()),
            ..Overrides::default()
        };
        let (view, _) = view_from(&base, &overrides);
        assert_eq!(view.delay_ms, 20);
        assert!(view.tree && !view.mouse);
        let saved = config_to_save(&view, &base, &overrides);
        assert_eq!(saved, base);
    }

    #[test]
    fn unknown_names_are_reported_and_the_rest_applies() {
        let config = Config {
            columns: vec!["PID".into(), "BOGUS".into()],
            theme: "neon".into(),
            io_sort_key: "NOPE".into(),
            ..Config::default()
        };
        let (view, warnings) = view_from(&config, &Overrides::default());
        assert_eq!(view.columns, vec![Column::Pid]);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert_eq!(
            view.screen_settings(IO_SCREEN),
            Some(ScreenSettings::io_default())
        );
    }
}
