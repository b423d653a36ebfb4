//! cgroup v2 (work in progress).
