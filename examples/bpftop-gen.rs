//! Writes the man page and the shell completions from the CLI definition:
//!
//!     cargo run --example bpftop-gen -- DIR
//!
//! writes DIR/bpftop.1, DIR/bpftop.bash, DIR/_bpftop (zsh) and
//! DIR/bpftop.fish. An example rather than an option of bpftop or a second
//! binary: clap_mangen and clap_complete stay dev-dependencies, so neither
//! the bpftop binary nor `cargo install` carries them. scripts/gen-docs
//! runs it and puts the files where they are committed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use bpftop::cli::Cli;

fn generate(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    page.extend_from_slice(bpftop::man::extra_sections().as_bytes());
    std::fs::write(dir.join("bpftop.1"), page)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "bpftop", dir)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bpftop-gen DIR");
        return ExitCode::from(2);
    };
    match generate(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpftop-gen: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
