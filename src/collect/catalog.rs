//! What a process's cgroup says about it: systemd unit and slice, container
//! and its name, and whether the cgroup is frozen. Everything but the
//! frozen state is derived once per distinct cgroup path and cached; the
//! frozen state costs one read per distinct cgroup per refresh.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::cgroup_stats::UnitStatsReader;
use super::containers::{container_of, ContainerNames, Runtime};
use super::frozen::FrozenStates;
use super::frozen_v1::V1Freezer;
use super::sample::{ProcessSample, UnitCgroup};
use super::units::{components, unescape_unit, unit_of};
use crate::present::sanitize::printable;

/// The types the catalog fills, under the path other layers know them by.
pub use super::sample::cgroup::{CgroupFacts, CgroupInfo};

pub struct Catalog {
    infos: FxHashMap<String, Arc<CgroupInfo>>,
    names: ContainerNames,
    frozen: Option<FrozenStates>,
    /// The v1 freezer, where a v1 freezer hierarchy is mounted (hybrid
    /// hosts, whose container runtimes pause through it).
    frozen_v1: Option<V1Freezer>,
    unit_stats: Option<UnitStatsReader>,
}

/// The cgroup that holds `path`'s container (the component naming its id)
/// or else its unit (the deepest .service/.scope): the path up to it.
pub fn unit_cgroup_of(path: &str, info: &CgroupInfo) -> Option<String> {
    let parts = components(path);
    let at = match (&info.container, &info.unit.unit) {
        (Some(c), _) => parts.iter().rposition(|p| p.contains(c.id.as_str()))?,
        (None, Some(unit)) => parts.iter().rposition(|p| p == unit)?,
        (None, None) => return None,
    };
    let mut out = String::new();
    for part in parts.get(..=at)? {
        out.push('/');
        out.push_str(part);
    }
    Some(out)
}

impl Catalog {
    /// `root` is the filesystem root container metadata is read under;
    /// `mount` the cgroup2 mount point, if any.
    pub fn new(root: &Path, mount: Option<&Path>) -> Catalog {
        Catalog {
            infos: FxHashMap::default(),
            names: ContainerNames::new(root),
            frozen: mount.map(FrozenStates::new),
            frozen_v1: None,
            unit_stats: mount.map(|m| UnitStatsReader::new(m, &root.join("proc"))),
        }
    }

    /// Also reads the v1 freezer mounted at `mount` (processes under
    /// `proc_root`): a cgroup frozen there counts as frozen.
    pub fn follow_v1_freezer(&mut self, proc_root: &Path, mount: &Path) {
        self.frozen_v1 = Some(V1Freezer::new(proc_root, mount));
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
            let label = printable(label.as_bytes());
            match (&c.pod, c.runtime) {
                // A podman pod's name lives in podman's database, which is
                // not cheap to read: the pod is shown by its short id.
                (Some(pod), Runtime::Podman) => {
                    format!("{}:{}/{label}", c.runtime.name(), pod.short_id())
                }
                _ => format!("{}:{label}", c.runtime.name()),
            }
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

    /// Adds to `facts` the cgroups of exited processes (`paths`) that no
    /// live process is in (their unit and container; frozen unknown), so
    /// that exits are counted where their processes ran.
    pub fn describe_exited<'a>(
        &mut self,
        paths: impl IntoIterator<Item = &'a str>,
        facts: &mut HashMap<String, CgroupFacts>,
    ) {
        for path in paths {
            if !facts.contains_key(path) {
                let info = self.info(path);
                let facts_of_exited = CgroupFacts {
                    info,
                    frozen: None,
                    unit: None,
                };
                facts.insert(path.to_owned(), facts_of_exited);
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
        let mut units: FxHashMap<String, Option<UnitCgroup>> = FxHashMap::default();
        let mut last = None;
        // A task stopped by the v1 freezer shows as D: only cgroups with
        // such a process are looked up there (the first one's pid).
        let mut suspects: FxHashMap<&str, u32> = FxHashMap::default();
        if self.frozen_v1.is_some() {
            for p in processes
                .iter()
                .filter(|p| p.state == 'D' && !p.kernel_thread)
            {
                if let Some(cgroup) = p.cgroup.as_deref() {
                    suspects.entry(cgroup).or_insert(p.pid);
                }
            }
        }
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
            let mut frozen = self.frozen.as_mut().and_then(|f| f.is_frozen(path));
            if frozen != Some(true) {
                let suspect = suspects.get(path).copied();
                match self
                    .frozen_v1
                    .as_mut()
                    .and_then(|f| f.is_frozen(path, suspect))
                {
                    Some(true) => frozen = Some(true),
                    Some(false) => frozen = frozen.or(Some(false)),
                    None => {}
                }
            }
            let unit = unit_cgroup_of(path, &info).and_then(|owner| {
                let reader = self.unit_stats.as_mut();
                units
                    .entry(owner)
                    .or_insert_with_key(|owner| {
                        let stats = reader?.read(owner)?;
                        Some(UnitCgroup {
                            path: Arc::from(owner.as_str()),
                            stats: Arc::new(stats),
                        })
                    })
                    .clone()
            });
            facts.insert(path.to_owned(), CgroupFacts { info, frozen, unit });
        }
        self.infos
            .retain(|path, _| facts.contains_key(path.as_str()));
        if let Some(frozen) = self.frozen.as_mut() {
            frozen.retain(|path| facts.contains_key(path));
        }
        if let Some(frozen) = self.frozen_v1.as_mut() {
            frozen.retain(|path| facts.contains_key(path));
        }
        if let Some(reader) = self.unit_stats.as_mut() {
            reader.retain(|path| units.contains_key(path));
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

    #[test]
    fn unit_cgroup_is_the_path_up_to_the_unit_or_container() {
        let of = |path: &str| {
            let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
            let info = catalog.info(path);
            unit_cgroup_of(path, &info)
        };
        assert_eq!(
            of("/system.slice/nginx.service").as_deref(),
            Some("/system.slice/nginx.service")
        );
        assert_eq!(
            of("/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope/sub").as_deref(),
            Some("/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope")
        );
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            of(&format!("/docker/{id}/inner")).as_deref(),
            Some(format!("/docker/{id}").as_str())
        );
        assert_eq!(of("/"), None);
        assert_eq!(of("/init.scope.d/x"), None);
    }
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
        assert_eq!(docker.unit, None);
        // A cgroup nobody is in any more is forgotten.
        processes[0].cgroup = None;
        catalog.describe(&processes);
        assert!(!catalog.infos.keys().any(|k| k.contains("docker-")));
    }

    #[test]
    fn a_podman_pod_is_shown_before_its_container() {
        let pod = "e59a8c55759cbacf432b17b4be898b08ddd9a6b81c5020bac579bc642f662452";
        let ctr = "651d6fa69f47d2e419d9a6e7542b96b364baf7f4daca97eac1933ffe8cdfbdd3";
        let mut processes = demo_processes();
        processes[0].cgroup = Some(format!("/libpod_parent/{pod}/libpod-{ctr}").into());
        processes[1].cgroup = Some(format!("/libpod_parent/libpod-{ctr}").into());
        let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
        let facts = catalog.describe(&processes);
        let label = |i: usize| {
            let path = processes[i].cgroup.as_deref().unwrap_or_default();
            facts[path].info.container_label.clone()
        };
        assert_eq!(label(0), Some("podman:e59a8c55759c/651d6fa69f47".into()));
        assert_eq!(label(1), Some("podman:651d6fa69f47".into()));
    }
}
