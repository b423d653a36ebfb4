//! Starting the interface: config file, command-line overrides, backend.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::bail;

use super::app::{self, ConfigFile, Feed, Replay};
use super::columns::Column;
use super::header::Meter;
use super::settings::{view_from, Overrides};
use super::theme::Theme;
use crate::collect::sampler::Sampler;
use crate::config::{self, Config, LoadOutcome};
use crate::monitor::start::{start, Source, StartError, UsageError};
use crate::privileges::Mode;
use crate::record::player::Player;
use crate::record::store::Store;

/// What the command line asks of the interface.
#[derive(Debug, Clone, Default)]
pub struct InterfaceOptions {
    pub delay_ms: Option<u64>,
    pub tree: bool,
    /// Only this user's processes (name or uid).
    pub user: Option<String>,
    /// Only these processes (none: all).
    pub pids: Vec<u32>,
    /// A column id.
    pub sort_key: Option<String>,
    pub no_mouse: bool,
    /// A theme name.
    pub theme: Option<String>,
    pub no_color: bool,
}

fn theme_from(options: &InterfaceOptions) -> Result<Option<Theme>, UsageError> {
    let no_color = options.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color {
        return Ok(Some(Theme::mono()));
    }
    match &options.theme {
        None => Ok(None),
        Some(name) => Theme::by_name(name).map(Some).ok_or_else(|| {
            UsageError(format!(
                "unknown theme \"{name}\" (themes: {})",
                Theme::NAMES.join(", ")
            ))
        }),
    }
}

fn sort_key_from(options: &InterfaceOptions) -> Result<Option<Column>, UsageError> {
    match &options.sort_key {
        None => Ok(None),
        Some(id) => Column::from_id(id).map(Some).ok_or_else(|| {
            let ids: Vec<&str> = Column::ALL.iter().map(|c| c.id()).collect();
            UsageError(format!(
                "unknown sort key \"{id}\" (columns: {})",
                ids.join(" ")
            ))
        }),
    }
}

fn user_from(
    options: &InterfaceOptions,
    sampler: &Sampler,
) -> Result<Option<(u32, String)>, UsageError> {
    let Some(user) = &options.user else {
        return Ok(None);
    };
    let uid = match user.parse::<u32>() {
        Ok(uid) => uid,
        Err(_) => sampler
            .uid_of(user)
            .ok_or_else(|| UsageError(format!("unknown user \"{user}\"")))?,
    };
    Ok(Some((uid, sampler.user_name(uid))))
}

/// The config file's path, its settings (the defaults when it is missing
/// or broken) and, when broken, why.
fn load_config() -> (Option<std::path::PathBuf>, Config, Option<String>) {
    let path = config::config_path();
    let columns: Vec<&str> = Column::ALL.iter().map(|c| c.id()).collect();
    let meters: Vec<&str> = Meter::ALL.iter().map(|m| m.id()).collect();
    let vocabulary = config::Vocabulary {
        columns: &columns,
        meters: &meters,
    };
    let (config, broken_message) = match path.as_deref().map(|p| config::load(p, &vocabulary)) {
        None | Some(LoadOutcome::Missing) => (Config::default(), None),
        Some(LoadOutcome::Loaded(c)) => (c, None),
        Some(LoadOutcome::Broken { message }) => (Config::default(), Some(message)),
    };
    (path, config, broken_message)
}

/// Runs the interface on the recording in `dir`, from its refresh at
/// `at` (seconds since the epoch; the first refresh when None). Nothing
/// of this machine is read but the config file.
pub fn launch_replay(
    options: &InterfaceOptions,
    dir: &Path,
    at: Option<f64>,
) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!("standard output is not a terminal; use replay --batch to print a recording");
    }
    // A recording that cannot be read is said before the screen changes.
    let store = Store::open_for_reading(dir)?;
    let mut player = Player::new();
    let first = player.seek(&store, at.unwrap_or(f64::MIN))?;
    let (path, config, broken_message) = load_config();
    let user = match &options.user {
        None => None,
        Some(user) => {
            let uid = match user.parse::<u32>() {
                Ok(uid) => uid,
                Err(_) => player.uid_of(user).ok_or_else(|| {
                    UsageError(format!("unknown user \"{user}\" in the recording"))
                })?,
            };
            Some((uid, user.clone()))
        }
    };
    let overrides = Overrides {
        delay_ms: options.delay_ms,
        tree: options.tree,
        user,
        pids: (!options.pids.is_empty())
            .then(|| options.pids.iter().copied().collect::<HashSet<u32>>()),
        sort_key: sort_key_from(options)?,
        no_mouse: options.no_mouse,
        theme: theme_from(options)?,
    };
    let (mut view, _) = view_from(&config, &overrides);
    if let Some(message) = &broken_message {
        view.set_status(format!("{message} — using defaults"), true);
    } else {
        view.set_status(
            ", . a refresh back / forward, { } a minute (? for help)".to_owned(),
            false,
        );
    }
    app::run(
        Feed::Replay(Box::new(Replay {
            store,
            player,
            first,
        })),
        view,
        ConfigFile {
            path,
            broken: broken_message.is_some(),
            base: config,
            overrides,
        },
    )
}

/// Runs the interactive interface.
pub fn launch(options: &InterfaceOptions, source: &Source) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!("standard output is not a terminal; use --batch for a non-interactive snapshot");
    }
    let (path, config, broken_message) = load_config();
    // Opened and privileges dropped before the collector thread starts; what
    // the command line asks is checked first (bad usage says nothing else).
    let started = start(source, Mode::Interactive, |sampler| {
        Ok::<_, UsageError>((
            user_from(options, sampler)?,
            sort_key_from(options)?,
            theme_from(options)?,
        ))
    });
    let started = match started {
        Ok(started) => started,
        Err(StartError::Open(e)) => return Err(e),
        Err(StartError::Refused(usage)) => return Err(usage.into()),
    };
    let (user, sort_key, theme) = started.checked;
    let sampler = started.monitor.sampler();
    let overrides = Overrides {
        delay_ms: options.delay_ms,
        tree: options.tree,
        user,
        pids: (!options.pids.is_empty())
            .then(|| options.pids.iter().copied().collect::<HashSet<u32>>()),
        sort_key,
        no_mouse: options.no_mouse,
        theme,
    };
    let (mut view, warnings) = view_from(&config, &overrides);
    let warnings = match warnings.len() {
        0 | 1 => warnings,
        n => vec![format!("{} (and {} more)", warnings[0], n - 1)],
    };
    view.backend_label = match sampler.fallback_reason() {
        None => sampler.backend().label().to_owned(),
        Some(reason) => format!("procfs: {reason}"),
    };
    // Processes an earlier bpftop left frozen alone (killed with SIGKILL or
    // crashed): released before anything else, and said first.
    let recovered = super::freezer::recover_at_start(&source.collect.proc_root);
    if let Some(e) = started.drop_failure {
        view.set_status(e, true);
    } else if let Some(status) = recovered {
        view.set_status(status.text, status.error);
    } else if let Some(message) = &broken_message {
        view.set_status(format!("{message} — using defaults"), true);
    } else if let Some(warning) = warnings.first() {
        view.set_status(format!("{warning} — ignored"), true);
    }
    app::run(
        Feed::Live(Box::new(started.monitor)),
        view,
        ConfigFile {
            path,
            broken: broken_message.is_some(),
            base: config,
            overrides,
        },
    )
}
