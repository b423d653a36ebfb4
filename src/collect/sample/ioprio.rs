//! I/O priority as ioprio_get(2) reports it: a class and a level.

/// An I/O scheduling class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum IoClass {
    /// No class set: the kernel derives a best-effort level from the nice
    /// value ((nice + 20) / 5).
    None,
    Realtime,
    BestEffort,
    Idle,
}

/// A class and its level, 0 (highest) to 7 (lowest); the level means
/// nothing for `None` and `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct IoPriority {
    pub class: IoClass,
    pub level: u8,
}

/// The class sits above these bits of the raw value.
const CLASS_SHIFT: u32 = 13;
/// Levels the realtime and best-effort classes have.
pub const IO_LEVELS: u8 = 8;

impl IoPriority {
    pub const NONE: IoPriority = IoPriority {
        class: IoClass::None,
        level: 0,
    };

    /// The raw value ioprio_get returns; None for a class or level this
    /// does not know.
    pub fn from_raw(raw: i32) -> Option<IoPriority> {
        let raw = u32::try_from(raw).ok()?;
        let class = match raw >> CLASS_SHIFT {
            0 => IoClass::None,
            1 => IoClass::Realtime,
            2 => IoClass::BestEffort,
            3 => IoClass::Idle,
            _ => return None,
        };
        // Newer kernels keep priority hints above the level's 3 bits.
        let level = u8::try_from(raw & 0x7).ok()?;
        Some(IoPriority { class, level })
    }

    /// The raw value for ioprio_set.
    pub fn to_raw(self) -> i32 {
        let class = match self.class {
            IoClass::None => 0,
            IoClass::Realtime => 1,
            IoClass::BestEffort => 2,
            IoClass::Idle => 3,
        };
        let level = match self.class {
            IoClass::Realtime | IoClass::BestEffort => i32::from(self.level.min(IO_LEVELS - 1)),
            IoClass::None | IoClass::Idle => 0,
        };
        (class << CLASS_SHIFT) | level
    }

    /// htop's short form: "R0".."R7", "B0".."B7", "id"; a process with no
    /// class shows the best-effort level its nice value gives it.
    pub fn short(self, nice: i32) -> String {
        match self.class {
            IoClass::None => format!("B{}", (nice.clamp(-20, 19) + 20) / 5),
            IoClass::BestEffort => format!("B{}", self.level),
            IoClass::Realtime => format!("R{}", self.level),
            IoClass::Idle => "id".to_owned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip_and_unknown_classes_are_refused() {
        for class in [IoClass::Realtime, IoClass::BestEffort] {
            for level in 0..IO_LEVELS {
                let p = IoPriority { class, level };
                assert_eq!(IoPriority::from_raw(p.to_raw()), Some(p));
            }
        }
        assert_eq!(IoPriority::from_raw(0), Some(IoPriority::NONE));
        assert_eq!(IoPriority::from_raw(3 << 13).unwrap().class, IoClass::Idle);
        assert_eq!(IoPriority::from_raw(4 << 13), None);
        assert_eq!(IoPriority::from_raw(-1), None);
    }

    #[test]
    fn short_forms_are_htops() {
        assert_eq!(IoPriority::NONE.short(0), "B4");
        assert_eq!(IoPriority::NONE.short(-20), "B0");
        assert_eq!(IoPriority::NONE.short(19), "B7");
        let rt = IoPriority {
            class: IoClass::Realtime,
            level: 3,
        };
        assert_eq!(rt.short(0), "R3");
        let idle = IoPriority {
            class: IoClass::Idle,
            level: 0,
        };
        assert_eq!(idle.short(5), "id");
    }
}
