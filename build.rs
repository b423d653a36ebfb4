//! Compiles the BPF programs under src/bpf/ and generates their Rust
//! skeletons (including the Rust view of the record layout in intf.h).

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const PROGRAMS: &[&str] = &["task_iter"];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in PROGRAMS {
        let src = format!("src/bpf/{name}.bpf.c");
        let skel = out.join(format!("{name}.skel.rs"));
        SkeletonBuilder::new()
            .source(&src)
            .clang_args([
                // The BPF target has no system headers of its own.
                "-I",
                "src/bpf",
                // Keep loops as written: the verifier bounds them.
                "-fno-unroll-loops",
                // Fail on anything suspicious in BPF C, as we do for Rust.
                "-Wall",
                "-Werror",
            ])
            .build_and_generate(&skel)
            .unwrap_or_else(|e| panic!("building {src}: {e:#}"));
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=src/bpf/intf.h");
    println!("cargo:rerun-if-changed=src/bpf/vmlinux_min.h");
}
