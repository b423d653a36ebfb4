//! Between the config file, the command line and the view state.

use std::collections::HashSet;

use super::columns::Column;
use super::header::Meter;
use super::rows::SortSpec;
use super::theme::Theme;
use super::view::ViewState;
use crate::config::Config;

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
    let columns: Vec<Column> = config
        .columns
        .iter()
        .filter_map(|id| {
            let column = Column::from_id(id);
            if column.is_none() {
                warnings.push(format!("config: unknown column \"{id}\""));
            }
            column
        })
        .collect();
    if !columns.is_empty() {
        view.columns = columns;
    }
    let meters: Vec<Meter> = config
        .header_meters
        .iter()
        .filter_map(|id| {
            let meter = Meter::from_id(id);
            if meter.is_none() {
                warnings.push(format!("config: unknown meter \"{id}\""));
            }
            meter
        })
        .collect();
    view.meters = meters;
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
    view.tree = config.tree || overrides.tree;
    view.delay_ms = overrides.delay_ms.unwrap_or(config.delay_ms);
    view.show_kernel_threads = config.show_kernel_threads;
    view.show_threads = config.show_threads;
    view.aggregate_folded = config.aggregate_folded;
    view.mouse = config.mouse && !overrides.no_mouse;
    view.user_filter = overrides.user.clone();
    view.pid_filter = overrides.pids.clone();
    (view, warnings)
}

/// The config that reproduces the view's settings.
pub fn config_from(view: &ViewState) -> Config {
    Config {
        columns: view.columns.iter().map(|c| c.id().to_owned()).collect(),
        sort_key: view.sort.column.id().to_owned(),
        sort_descending: view.sort.descending,
        tree: view.tree,
        delay_ms: view.delay_ms,
        theme: view.theme.name.to_owned(),
        header_meters: view.meters.iter().map(|m| m.id().to_owned()).collect(),
        show_kernel_threads: view.show_kernel_threads,
        show_threads: view.show_threads,
        mouse: view.mouse,
        aggregate_folded: view.aggregate_folded,
    }
}
