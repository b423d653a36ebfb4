//! Compiles the BPF programs under src/bpf/ and generates their Rust
//! skeletons (including the Rust view of intf.h's record layout and flag
//! enums, generated from the objects' BTF), and records what
//! `bpftop --version` says about the build (build/info.rs).

use std::env;
use std::error::Error;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

#[path = "build/info.rs"]
mod info;

const PROGRAMS: &[&str] = &[
    "task_iter",
    "net",
    "exits",
    "drm_fds",
    "walk_floor",
    "argv_iter",
];

fn main() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(env::var_os("OUT_DIR").ok_or("cargo did not set OUT_DIR")?);
    let manifest_dir = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").ok_or("cargo did not set CARGO_MANIFEST_DIR")?,
    );
    let arch_define = format!("-D__TARGET_ARCH_{}", bpf_arch()?);
    for name in PROGRAMS {
        let src = format!("src/bpf/{name}.bpf.c");
        SkeletonBuilder::new()
            .source(&src)
            .clang_args([
                // Our headers (vmlinux_min.h, intf.h); libbpf's come from libbpf-sys.
                "-I",
                "src/bpf",
                &arch_define,
                // Keep loops as written: the verifier bounds them.
                "-fno-unroll-loops",
                // Treat suspicious BPF C as an error, as clippy does for Rust.
                "-Wall",
                "-Werror",
            ])
            .build_and_generate(out.join(format!("{name}.skel.rs")))
            .map_err(|e| format!("building {src}: {e:#}"))?;
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=src/bpf/intf.h");
    println!("cargo:rerun-if-changed=src/bpf/vmlinux_min.h");
    println!("cargo:rerun-if-changed=src/bpf/net_maps.h");
    println!("cargo:rerun-if-changed=src/bpf/exit_emit.h");
    println!("cargo:rerun-if-changed=src/bpf/task_kfuncs.h");
    println!("cargo:rerun-if-changed=build/info.rs");
    info::emit(&manifest_dir)
}

/// The target's name in libbpf's `__TARGET_ARCH_*`: bpf_tracing.h reads
/// kprobe arguments from that architecture's registers (vmlinux_min.h
/// declares its pt_regs). Cross builds take the target's, not the host's.
fn bpf_arch() -> Result<&'static str, Box<dyn Error>> {
    match env::var("CARGO_CFG_TARGET_ARCH")?.as_str() {
        "x86_64" => Ok("x86"),
        "aarch64" => Ok("arm64"),
        other => Err(format!("no BPF register layout for target arch {other}").into()),
    }
}
