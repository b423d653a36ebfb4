//! Per-process GPU usage: NVIDIA through NVML, every other driver through
//! the kernel's DRM fdinfo usage stats. Both sources produce the same
//! [`GpuSnapshot`]; collectors of CPU and memory know nothing of it.
//!
//! Busy percentages are computed here rather than in the model, because
//! NVML itself reports utilisation per sampling interval (since a
//! timestamp we pass back), and DRM engine counters need the previous
//! reading of the same client, which only this module can key correctly.

use std::collections::HashMap;

/// Who drives a GPU.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GpuVendor {
    Nvidia,
    /// A DRM driver reporting fdinfo usage stats ("amdgpu", "i915", "xe",
    /// "msm", "panfrost", "panthor", "v3d", ...).
    Drm {
        driver: String,
    },
}

/// One GPU, for the header meters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GpuDevice {
    /// bpftop's index: NVML devices first (in NVML order), then DRM devices
    /// by PCI address (or device path when not PCI).
    pub index: u32,
    /// Product name (NVML) or "driver pdev" (DRM).
    pub name: String,
    pub vendor: GpuVendor,
    /// Share of the last interval the GPU was busy, 0–100; None when
    /// unknown (first reading, or the source has no device-wide figure).
    pub busy_percent: Option<f64>,
    pub mem_used_bytes: Option<u64>,
    pub mem_total_bytes: Option<u64>,
}

/// One process's use of all GPUs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcessGpu {
    /// Busy share summed over the process's clients and engines on all
    /// GPUs, in percent of one GPU (like CPU%, it can exceed 100 with
    /// several GPUs).
    pub busy_percent: f64,
    /// Video memory the process holds on all GPUs, bytes.
    pub mem_bytes: u64,
    /// bpftop indices of the GPUs it uses, ascending, without duplicates.
    pub devices: Vec<u32>,
}

/// What the GPU sources saw at one refresh.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GpuSnapshot {
    pub devices: Vec<GpuDevice>,
    /// Keyed by pid (both NVML and fdinfo identify processes by pid).
    pub processes: HashMap<u32, ProcessGpu>,
}

pub mod collector;
pub mod discovery;
pub mod fdinfo;
pub mod nvml;
