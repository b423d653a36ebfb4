//! The command line, checked and turned into each mode's options: the
//! modes never see `Cli`.

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bpftop::batch::{self, BatchOptions, Selection};
use bpftop::cli::Cli;
use bpftop::collect::{CollectOptions, NetOptions};
use bpftop::monitor::start::{start, Source, StartError, UsageError};
use bpftop::privileges::{self, Mode};
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
    let cli = Cli::from_env();
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
