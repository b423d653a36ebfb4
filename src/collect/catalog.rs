//! What a process's cgroup says about it: systemd unit and slice, container
//! and its name, and whether the cgroup is frozen. Everything but the
//! frozen state is derived once per distinct cgroup path and cached; the
//! frozen state costs one read per distinct cgroup per refresh.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::containers::{container_of, ContainerNames};
use super::frozen::FrozenStates;
use super::sample::{ExitedProcess, ProcessSample};
use super::units::{unescape_unit, unit_of};
use crate::present::sanitize::printable;

/// The types the catalog fills, under the path other layers know them by.
pub use super::sample::cgroup::{CgroupFacts, CgroupInfo};

pub struct Catalog {
    infos: FxHashMap<String, Arc<CgroupInfo>>,
    names: ContainerNames,
    frozen: Option<FrozenStates>,
}

impl Catalog {
    /// `root` is the filesystem root container metadata is read under;
    /// `mount` the cgroup2 mount point, if any.
    pub fn new(root: &Path, mount: Option<&Path>) -> Catalog {
        Catalog {
            infos: FxHashMap::default(),
            names: ContainerNames::new(root),
            frozen: mount.map(FrozenStates::new),
        }
    }

    fn info(&mut self, path: &str) -> Arc<CgroupInfo> {
        if let Some(info) = self.infos.get(path) {
            return Arc::clone(info);
        }
        let container = container_of(path);
        let container_name = container.as_ref().and_then(|c| self.names.name(c));
        let unit = unit_of(path);
        let container_label = container.as_ref().map(|c| {
            let label = container_name.as_deref().unwrap_or(c.short_id());
            format!("{}:{}", c.runtime.name(), printable(label.as_bytes()))
        });
        let info = Arc::new(CgroupInfo {
            unit_label: unit.unit.as_deref().map(unescape_unit),
            slice_label: unit.slice.as_deref().map(unescape_unit),
            unit,
            container,
            container_name,
            container_label,
        });
        self.infos.insert(path.to_owned(), Arc::clone(&info));
        info
    }

    /// Adds to `facts` the cgroups of exited processes that no live process
    /// is in (their unit and container; frozen unknown), so that exits are
    /// counted where their processes ran.
    pub fn describe_exited(
        &mut self,
        exited: &[ExitedProcess],
        facts: &mut HashMap<String, CgroupFacts>,
    ) {
        for path in exited.iter().filter_map(|p| p.cgroup.as_deref()) {
            if !facts.contains_key(path) {
                let info = self.info(path);
                facts.insert(path.to_owned(), CgroupFacts { info, frozen: None });
            }
        }
    }

    /// Facts for every distinct cgroup of `processes`; forgets cgroups no
    /// process is in any more.
    pub fn describe(&mut self, processes: &[ProcessSample]) -> HashMap<String, CgroupFacts> {
        let mut facts = HashMap::new();
        // The collector hands out one shared Arc per cgroup path, so a path
        // is recognised by its Arc's address (the same as the last
        // process's, or one already seen) before any string is hashed.
        // Equal paths in distinct Arcs still meet in `facts`. Every Arc
        // lives in `processes` until we return, so no address is reused.
        let mut seen: FxHashSet<usize> = FxHashSet::default();
        let mut last = None;
        for cgroup in processes.iter().filter_map(|p| p.cgroup.as_ref()) {
            let address = Arc::as_ptr(cgroup).cast::<u8>().addr();
            if last == Some(address) {
                continue;
            }
            last = Some(address);
            if !seen.insert(address) {
                continue;
            }
            let path: &str = cgroup;
            if facts.contains_key(path) {
                continue;
            }
            let info = self.info(path);
            let frozen = self.frozen.as_mut().and_then(|f| f.is_frozen(path));
            facts.insert(path.to_owned(), CgroupFacts { info, frozen });
        }
        self.infos
            .retain(|path, _| facts.contains_key(path.as_str()));
        if let Some(frozen) = self.frozen.as_mut() {
            frozen.retain(|path| facts.contains_key(path));
        }
        let containers: FxHashSet<&str> = facts
            .values()
            .filter_map(|f| f.info.container.as_ref().map(|c| c.id.as_str()))
            .collect();
        self.names.retain(|_, id| containers.contains(id));
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::demo_processes;
    use std::collections::HashSet;

    #[test]
    fn distinct_paths_are_described_once_each() {
        let mut processes = demo_processes();
        processes[0].cgroup = Some(
            "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"
                .into(),
        );
        let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
        let facts = catalog.describe(&processes);
        let distinct: HashSet<&str> = processes
            .iter()
            .filter_map(|p| p.cgroup.as_deref())
            .collect();
        assert_eq!(facts.len(), distinct.len());
        let docker = &facts[processes[0].cgroup.as_deref().unwrap_or_default()];
        assert_eq!(
            docker.info.unit.unit.as_deref(),
            Some("docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope")
        );
        assert_eq!(
            docker.info.container.as_ref().map(|c| c.short_id()),
            Some("0123456789ab")
        );
        // Without a cgroup2 mount the frozen state is unknown, not false.
        assert_eq!(docker.frozen, None);
        // A cgroup nobody is in any more is forgotten.
        processes[0].cgroup = None;
        catalog.describe(&processes);
        assert!(!catalog.infos.keys().any(|k| k.contains("docker-")));
    }
}
