//! What a sample says about its GPU sources (filled by the GPU collector).

/// What each GPU source is doing, for `--check` and the interface.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GpuStatus {
    /// Ok: what NVML reads; Err: why it is off.
    pub nvml: Result<String, String>,
    /// Ok: how DRM clients are found; Err: why they are not looked for.
    pub drm: Result<String, String>,
}

impl GpuStatus {
    /// Some source may report GPUs.
    pub fn any_on(&self) -> bool {
        self.nvml.is_ok() || self.drm.is_ok()
    }
}

impl Default for GpuStatus {
    fn default() -> Self {
        GpuStatus {
            nvml: Err("not started".into()),
            drm: Err("not started".into()),
        }
    }
}
