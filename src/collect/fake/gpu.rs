//! The demo machine's GPUs: an NVIDIA card seen through NVML and an AMD
//! card seen through DRM fdinfo, with constant figures so that screens are
//! stable: java (900) on both, the hostile-names process (1500) on the
//! second, nobody else.

use std::collections::HashMap;

use super::{GIB, MIB};
use crate::collect::gpu::{GpuDevice, GpuSnapshot, GpuVendor, ProcessGpu};
use crate::collect::sample::GpuStatus;

/// Both sources on, as on a machine with both kinds of GPU.
pub fn demo_gpu_status() -> GpuStatus {
    GpuStatus {
        nvml: Ok("NVIDIA GPUs through NVML".to_owned()),
        drm: Ok("DRM files found through /proc/PID/fd every 5 s".to_owned()),
    }
}

/// GPU 0 45 % busy, 3.25 GiB of 23 GiB used (java's 3 GiB and the
/// driver's own); GPU 1 32.5 % busy, 812 MiB of 8 GiB (java 12.5 % and
/// 512 MiB, pid 1500 20 % and 300 MiB).
pub fn demo_gpu() -> GpuSnapshot {
    let devices = vec![
        GpuDevice {
            index: 0,
            name: "NVIDIA L4".to_owned(),
            vendor: GpuVendor::Nvidia,
            busy_percent: Some(45.0),
            mem_used_bytes: Some(3 * GIB + 256 * MIB),
            mem_total_bytes: Some(23 * GIB),
        },
        GpuDevice {
            index: 1,
            name: "amdgpu 0000:03:00.0".to_owned(),
            vendor: GpuVendor::Drm {
                driver: "amdgpu".to_owned(),
            },
            busy_percent: Some(32.5),
            mem_used_bytes: Some(812 * MIB),
            mem_total_bytes: Some(8 * GIB),
        },
    ];
    let processes = HashMap::from([
        (
            900,
            ProcessGpu {
                busy_percent: 45.0 + 12.5,
                mem_bytes: 3 * GIB + 512 * MIB,
                devices: vec![0, 1],
            },
        ),
        (
            1500,
            ProcessGpu {
                busy_percent: 20.0,
                mem_bytes: 300 * MIB,
                devices: vec![1],
            },
        ),
    ]);
    GpuSnapshot { devices, processes }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::collect::fake::{demo_processes, FakeCollector};
    use crate::collect::Collector;

    #[test]
    fn the_demo_gpus_add_up_and_stay() {
        let mut fake = FakeCollector::new(demo_processes());
        let first = fake.collect().unwrap();
        let second = fake.collect().unwrap();
        assert_eq!(first.gpu, second.gpu);
        assert!(second.gpu_status.any_on());
        let gpu = second.gpu;
        assert_eq!(gpu.devices.len(), 2);
        let pids: Vec<u32> = demo_processes().iter().map(|p| p.pid).collect();
        for (pid, p) in &gpu.processes {
            assert!(pids.contains(pid), "{pid}");
            assert!(p.devices.iter().all(|d| (*d as usize) < gpu.devices.len()));
        }
        // Device-wide figures cover their processes'.
        let busy: f64 = gpu.processes.values().map(|p| p.busy_percent).sum();
        let devices_busy: f64 = gpu.devices.iter().filter_map(|d| d.busy_percent).sum();
        assert_eq!(busy, devices_busy);
        let mem: u64 = gpu.processes.values().map(|p| p.mem_bytes).sum();
        let used: u64 = gpu.devices.iter().filter_map(|d| d.mem_used_bytes).sum();
        assert!(mem <= used);
    }
}
