//! Batch mode: print a snapshot per refresh to stdout.

use std::io::{self, Write};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::Format;
use crate::collect::sampler::Sampler;
use crate::model::Model;
use crate::output;

pub struct BatchOptions {
    pub count: Option<u64>,
    pub delay: Duration,
    pub format: Format,
    pub threads: bool,
}

/// Runs until `count` refreshes were printed (or forever). A closed stdout
/// (e.g. `| head`) ends the run quietly.
pub fn run(sampler: &mut Sampler, options: &BatchOptions) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut prev = None;
    let mut printed = 0u64;
    let mut next = Instant::now();
    while options.count.is_none_or(|c| printed < c) {
        let sample = sampler.sample()?;
        let model = Model::next(
            sample,
            prev.as_ref(),
            sampler.fallback_reason().map(str::to_owned),
            &|uid| sampler.user_name(uid),
        );
        let text = match options.format {
            Format::Json => output::json::render(&model, options.threads) + "\n",
            Format::Text => output::text::render(&model) + "\n",
        };
        let mut out = stdout.lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
        printed += 1;
        prev = Some(model);
        if options.count.is_some_and(|c| printed >= c) {
            break;
        }
        next += options.delay;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    Ok(())
}
