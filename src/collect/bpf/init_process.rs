//! PID 1 where the task walk does not reach it.
//!
//! On some kernels neither walk visits PID 1 although /proc lists it (seen
//! on a 6.18 virtual machine: a minimal `iter/task` program printing every
//! tid shows 2, 3, 4… and no 1). Without it the tree has no root, every
//! daemon's PPID points at nothing and the header undercounts. One process
//! read from /proc per refresh fills the gap at a constant cost.

use crate::collect::procfs::ProcfsCollector;
use crate::collect::sample::{ProcessSample, Sample};
use crate::collect::{CollectOptions, Collector};

pub struct InitProcess {
    reader: ProcfsCollector,
    /// The last refresh took PID 1 from /proc.
    from_proc: bool,
}

impl InitProcess {
    pub fn new(options: &CollectOptions) -> InitProcess {
        InitProcess {
            reader: ProcfsCollector::new(options),
            from_proc: false,
        }
    }

    pub fn set_threads(&mut self, threads: bool) {
        self.reader.set_threads(threads);
    }

    /// Whether the last refresh had to read PID 1 from /proc.
    pub fn read_from_proc(&self) -> bool {
        self.from_proc
    }

    /// Adds PID 1 from /proc to `sample` (processes in pid order) when the
    /// walk did not list it.
    pub fn fill(&mut self, sample: &mut Sample) {
        let at = match sample.processes.binary_search_by_key(&1, |p| p.pid) {
            Ok(_) => {
                self.from_proc = false;
                return;
            }
            Err(at) => at,
        };
        self.from_proc = true;
        let Some(init) = self.reader.read_pid(1) else {
            return;
        };
        count_threads(sample, &init);
        // Room for one more, not for twice as many (at 30 000 processes a
        // doubling is 14 MB).
        sample.processes.reserve_exact(1);
        sample.processes.insert(at, init);
    }
}

/// Adds `p`'s threads to the sample's thread counts, as the walk would.
fn count_threads(sample: &mut Sample, p: &ProcessSample) {
    if p.kernel_thread {
        sample.kernel_threads += 1;
    } else {
        sample.user_threads += u64::from(p.threads);
    }
    sample.running_threads += if p.thread_list.is_empty() {
        u64::from(p.state == 'R')
    } else {
        p.thread_list.iter().filter(|t| t.state == 'R').count() as u64
    };
}
