use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use bpftop::batch::{self, BatchOptions, Selection};
use bpftop::cli::Cli;
use bpftop::collect::sample::BackendKind;
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{CollectOptions, NetOptions};
use bpftop::monitor::Monitor;
use bpftop::privileges::{self, Mode};
use bpftop::serve::{ServeOptions, DEFAULT_INTERVAL_MS};

/// Gives up what the loaded programs no longer need; a failure is reported
/// and monitoring goes on.
fn drop_privileges(mode: Mode, options: &CollectOptions, sampler: &Sampler) {
    let procfs = sampler.backend() == BackendKind::Procfs;
    if let Err(e) = privileges::drop_after_load(mode, options.gpu, procfs) {
        eprintln!("bpftop: {e}");
    }
}

fn main() -> ExitCode {
    // First thing: a setuid/setgid bpftop would hand its privileges to
    // whoever runs it, with their environment and arguments.
    if let Err(message) = privileges::refuse_setid() {
        eprintln!("bpftop: {message}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    if let Err(message) = bpftop::trust::refuse_test_roots(&cli) {
        eprintln!("bpftop: {message}");
        return ExitCode::from(2);
    }
    if let Err(message) = bpftop::trust::check_kernel_roots(&cli) {
        eprintln!("bpftop: {message}");
        return ExitCode::FAILURE;
    }
    let options = CollectOptions {
        threads: cli.threads,
        proc_root: cli.proc_root.clone(),
        sys_root: cli.sys_root.clone(),
        net: NetOptions {
            enabled: !cli.no_net,
            all_families: cli.net_all_families,
        },
        gpu: !cli.no_gpu,
        walk: cli.bpf_walk,
    };
    if cli.check {
        print!("{}", bpftop::check::report(&options));
        return ExitCode::SUCCESS;
    }
    if let Some(addr) = cli.serve {
        let serve = ServeOptions {
            addr,
            interval: Duration::from_millis(cli.delay_ms.unwrap_or(DEFAULT_INTERVAL_MS)),
            top_k: cli.serve_top,
        };
        let result = Sampler::open(cli.backend, &options, cli.passwd.clone()).and_then(|sampler| {
            if let Some(reason) = sampler.fallback_reason() {
                eprintln!("bpftop: using the procfs backend: {reason}");
            }
            drop_privileges(Mode::Serve, &options, &sampler);
            bpftop::serve::run(Monitor::new(sampler), &serve)
        });
        if let Err(e) = result {
            eprintln!("bpftop: {e:#}");
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    if !cli.batch {
        return match bpftop::ui::launch::launch(&cli, &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bpftop: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let sampler = match Sampler::open(cli.backend, &options, cli.passwd.clone()) {
        Ok(sampler) => sampler,
        Err(e) => {
            eprintln!("bpftop: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    // What cannot be honoured is bad usage, refused before any output.
    let selection = match Selection::new(
        &cli.pids,
        cli.user.as_deref(),
        cli.sort_key.as_deref(),
        |name| sampler.uid_of(name),
    ) {
        Ok(selection) => selection,
        Err(message) => {
            eprintln!("bpftop: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(reason) = sampler.fallback_reason() {
        eprintln!("bpftop: using the procfs backend: {reason}");
    }
    drop_privileges(Mode::Batch, &options, &sampler);
    let result = batch::run(
        &mut Monitor::new(sampler),
        &BatchOptions {
            count: cli.count,
            delay: Duration::from_millis(cli.delay_ms.unwrap_or(1000)),
            format: cli.format,
            threads: cli.threads,
            selection,
        },
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpftop: {e:#}");
            ExitCode::FAILURE
        }
    }
}
