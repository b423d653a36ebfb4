//! What this binary is: `bpftop --version`'s lines, recorded by the build
//! script (build/info.rs) when it was compiled.

/// The target triple the binary was compiled for.
pub const TARGET: &str = env!("BPFTOP_BUILD_TARGET");
/// The git commit's short hash, "-dirty" when tracked files differed from
/// it; "unknown" when built outside a git work tree (a source tarball).
pub const COMMIT: &str = env!("BPFTOP_BUILD_COMMIT");
/// Profile, C runtime (static or dynamic), the BPF programs' register
/// layout, and any Cargo features, separated by spaces.
pub const FEATURES: &str = env!("BPFTOP_BUILD_FEATURES");
/// The build's date, YYYY-MM-DD (SOURCE_DATE_EPOCH's when it was set).
pub const DATE: &str = env!("BPFTOP_BUILD_DATE");

/// `--version`'s text after "bpftop ": the version, then one line each.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ntarget: ",
    env!("BPFTOP_BUILD_TARGET"),
    "\ncommit: ",
    env!("BPFTOP_BUILD_COMMIT"),
    "\nfeatures: ",
    env!("BPFTOP_BUILD_FEATURES"),
    "\nbuilt: ",
    env!("BPFTOP_BUILD_DATE"),
);
