//! Processes whose command line is read again at every refresh although
//! they did not exec: programs that set their title in place (postgres,
//! nginx, sshd, anything using setproctitle) rewrite their argv memory
//! without an exec, which `self_exec_id` cannot see. The interface names
//! the rows on screen (a few dozen reads per refresh, whatever the number
//! of processes).

#[derive(Debug, Default)]
pub struct WatchedTitles {
    /// Sorted, without repeats.
    pids: Vec<u32>,
}

impl WatchedTitles {
    /// Watches these processes from now on (the previous set is replaced).
    pub fn set(&mut self, pids: &[u32]) {
        self.pids.clear();
        self.pids.extend_from_slice(pids);
        self.pids.sort_unstable();
        self.pids.dedup();
    }

    pub fn contains(&self, pid: u32) -> bool {
        self.pids.binary_search(&pid).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_replaced() {
        let mut w = WatchedTitles::default();
        assert!(!w.contains(7));
        w.set(&[9, 7, 7, 1]);
        assert!(w.contains(7) && w.contains(1) && w.contains(9));
        assert!(!w.contains(8));
        w.set(&[9]);
        assert!(!w.contains(7) && w.contains(9));
    }
}
