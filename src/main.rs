//! The command line, checked and turned into each mode's options: the
//! modes never see `Cli`.

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bpftop::batch::{self, BatchOptions, Selection};
use bpftop::cli::{Cli, Command, RecordArgs, ReplayArgs};
use bpftop::collect::{CollectOptions, NetOptions};
use bpftop::monitor::start::{start, Source, StartError, UsageError};
use bpftop::privileges::{self, Mode};
use bpftop::record::replay::ReplayOptions;
use bpftop::record::when::{parse_moment, Retain};
use bpftop::record::RecordOptions;
use bpftop::serve::{ServeOptions, DEFAULT_INTERVAL_MS};
use bpftop::ui::launch::InterfaceOptions;

fn main() -> ExitCode {
    // Before any thread: the allocator's settings apply to all of them.
    bpftop::allocator::tune();
    // First thing: a setuid/setgid bpftop would hand its privileges to
    // whoever runs it, with their environment and arguments.
    if let Err(message) = privileges::refuse_setid() {
        eprintln!("bpftop: {message}");
        return ExitCode::FAILURE;
    }
    let mut cli = Cli::from_env();
    if let Err(message) = bpftop::trust::refuse_test_roots(&cli) {
        eprintln!("bpftop: {message}");
        return ExitCode::from(2);
    }
    if let Err(message) = bpftop::trust::check_kernel_roots(&cli) {
        eprintln!("bpftop: {message}");
        return ExitCode::FAILURE;
    }
    let source = Source {
        backend: cli.backend,
        collect: CollectOptions {
            threads: cli.threads,
            proc_root: cli.proc_root.clone(),
            sys_root: cli.sys_root.clone(),
            net: NetOptions {
                enabled: !cli.no_net,
                all_families: cli.net_all_families,
                hooks: cli.net_hooks,
            },
            gpu: !cli.no_gpu,
            walk: cli.bpf_walk,
        },
        passwd: cli.passwd.clone(),
    };
    match cli.command.take() {
        Some(Command::Record(args)) => return record(&source, args, &cli),
        Some(Command::Replay(args)) => {
            if args.batch {
                return replay_batch(&args, &cli);
            }
            let interface = InterfaceOptions {
                delay_ms: cli.delay_ms,
                tree: cli.tree,
                user: cli.user.clone(),
                pids: cli.pids.clone(),
                sort_key: cli.sort_key.clone(),
                no_mouse: cli.no_mouse,
                theme: cli.theme.clone(),
                no_color: cli.no_color,
            };
            return replay(&args, &interface);
        }
        None => {}
    }
    if cli.check {
        print!("{}", bpftop::check::report(&source.collect));
        return ExitCode::SUCCESS;
    }
    if let Some(addr) = cli.serve {
        let serve = ServeOptions {
            addr,
            interval: Duration::from_millis(cli.delay_ms.unwrap_or(DEFAULT_INTERVAL_MS)),
            top_k: cli.serve_top,
        };
        let result = match start(&source, Mode::Serve, |_| Ok::<(), Infallible>(())) {
            Ok(started) => bpftop::serve::run(started.monitor, &serve),
            Err(StartError::Open(e)) => Err(e),
            Err(StartError::Refused(never)) => match never {},
        };
        return exit(result);
    }
    if !cli.batch {
        let options = InterfaceOptions {
            delay_ms: cli.delay_ms,
            tree: cli.tree,
            user: cli.user,
            pids: cli.pids,
            sort_key: cli.sort_key,
            no_mouse: cli.no_mouse,
            theme: cli.theme,
            no_color: cli.no_color,
        };
        return exit(bpftop::ui::launch::launch(&options, &source));
    }
    // What cannot be honoured is bad usage, refused before any output.
    let started = start(&source, Mode::Batch, |sampler| {
        Selection::new(
            &cli.pids,
            cli.user.as_deref(),
            cli.sort_key.as_deref(),
            |name| sampler.uid_of(name),
        )
    });
    let mut started = match started {
        Ok(started) => started,
        Err(StartError::Open(e)) => return exit(Err(e)),
        Err(StartError::Refused(message)) => {
            eprintln!("bpftop: {message}");
            return ExitCode::from(2);
        }
    };
    exit(batch::run(
        &mut started.monitor,
        &BatchOptions {
            count: cli.count,
            delay: Duration::from_millis(cli.delay_ms.unwrap_or(1000)),
            format: cli.format,
            threads: cli.threads,
            pss: cli.pss.then(|| cli.proc_root.clone()),
            selection: started.checked,
        },
    ))
}

/// `bpftop record`.
fn record(source: &Source, args: RecordArgs, cli: &Cli) -> ExitCode {
    let age = args.retain.iter().rev().find_map(|r| match r {
        Retain::Age(secs) => Some(*secs),
        Retain::Bytes(_) => None,
    });
    let bytes = args.retain.iter().rev().find_map(|r| match r {
        Retain::Bytes(b) => Some(*b),
        Retain::Age(_) => None,
    });
    let options = RecordOptions {
        dir: args.dir.unwrap_or_else(bpftop::record::default_dir),
        delay: Duration::from_millis(args.delay_ms.unwrap_or(1000)),
        count: args.count,
        max_age: Some(age.unwrap_or(bpftop::record::DEFAULT_MAX_AGE_SECS)),
        max_bytes: Some(bytes.unwrap_or(bpftop::record::DEFAULT_MAX_BYTES)),
        threads: cli.threads,
        tee_json: args.tee_json,
        tee_selection: Selection::default(),
        key_every: args.key_every,
    };
    // The JSON copy selects as batch mode does (users by this machine's
    // names); what cannot be honoured is refused before recording.
    let started = start(source, Mode::Batch, |sampler| {
        Selection::new(
            &cli.pids,
            cli.user.as_deref(),
            cli.sort_key.as_deref(),
            |name| sampler.uid_of(name),
        )
    });
    let result = match started {
        Ok(mut started) => bpftop::record::run(
            &mut started.monitor,
            &RecordOptions {
                tee_selection: started.checked,
                ..options
            },
        ),
        Err(StartError::Open(e)) => Err(e),
        Err(StartError::Refused(message)) => {
            eprintln!("bpftop: {message}");
            return ExitCode::from(2);
        }
    };
    exit(result)
}

/// `bpftop replay` (the interface).
fn replay(args: &ReplayArgs, interface: &InterfaceOptions) -> ExitCode {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let dir = args.dir.clone().unwrap_or_else(bpftop::record::default_dir);
    let at = match args.at.as_ref().map(|t| parse_moment(t, now)).transpose() {
        Ok(at) => at,
        Err(e) => {
            eprintln!("bpftop: {e}");
            return ExitCode::from(2);
        }
    };
    exit(bpftop::ui::launch::launch_replay(interface, &dir, at))
}

/// `bpftop replay --batch`: the selection of live batch mode (-p, -u, -s,
/// -n), users named as the recording named them.
fn replay_batch(args: &ReplayArgs, cli: &Cli) -> ExitCode {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let moment = |text: &Option<String>, default: f64| match text {
        None => Ok(default),
        Some(t) => parse_moment(t, now),
    };
    let dir = args.dir.clone().unwrap_or_else(bpftop::record::default_dir);
    // A user name is looked up in each refresh's recorded names, not in
    // this machine's.
    let selection = match Selection::new(&cli.pids, None, cli.sort_key.as_deref(), |_| None) {
        Ok(selection) => selection,
        Err(message) => {
            eprintln!("bpftop: {message}");
            return ExitCode::from(2);
        }
    };
    let (from, to) = match (moment(&args.from, f64::MIN), moment(&args.to, f64::MAX)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("bpftop: {e}");
            return ExitCode::from(2);
        }
    };
    exit(bpftop::record::replay::run(&ReplayOptions {
        dir,
        from,
        to,
        format: args.format,
        selection,
        user: cli.user.clone(),
        count: cli.count,
    }))
}

/// A mode's outcome as the exit status (0 ok, 1 an error while running, 2
/// bad usage); an error is said on stderr.
fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpftop: {e:#}");
            if e.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
