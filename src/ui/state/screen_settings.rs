//! What a screen (Main, I/O) keeps of its own: columns and sort.

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

/// The screens, in tab order.
pub const SCREEN_NAMES: &[&str] = &["Main", "I/O"];

/// The screens' indices in [`SCREEN_NAMES`].
pub const MAIN_SCREEN: usize = 0;
pub const IO_SCREEN: usize = 1;

/// One screen's columns and sort.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSettings {
    pub columns: Vec<Column>,
    pub sort: SortSpec,
}

impl ScreenSettings {
    /// htop's Main screen: its columns, by CPU% (busiest first).
    pub fn main_default() -> ScreenSettings {
        ScreenSettings {
            columns: Column::DEFAULT.to_vec(),
            sort: SortSpec {
                column: Column::CpuPercent,
                descending: true,
            },
        }
    }

    /// htop's I/O screen, without its delay-accounting columns: the I/O
    /// priority and storage rates, busiest first.
    pub fn io_default() -> ScreenSettings {
        ScreenSettings {
            columns: vec![
                Column::Pid,
                Column::User,
                Column::IoPriority,
                Column::IoRate,
                Column::IoReadRate,
                Column::IoWriteRate,
                Column::Command,
            ],
            sort: SortSpec {
                column: Column::IoRate,
                descending: true,
            },
        }
    }
}
