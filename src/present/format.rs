//! Sizes and times as htop and top print them, shared by the interface's
//! columns and header and by the text output.

/// htop-style human size of a byte count: K below 100 MiB, then M, G, T
/// (the process columns' form).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 100_000.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{:.0}{}", value, UNITS[unit])
    } else {
        format!("{:.1}{}", value, UNITS[unit])
    }
}

/// TIME+ as top and htop print it: minutes:seconds.hundredths, or hours
/// once it passes 100 minutes.
pub fn time_plus(ns: u64) -> String {
    let hundredths = ns / 10_000_000;
    let (minutes, rest) = (hundredths / 6000, hundredths % 6000);
    if minutes >= 100 {
        format!("{}h{:02}:{:02}", minutes / 60, minutes % 60, rest / 100)
    } else {
        format!("{}:{:02}.{:02}", minutes, rest / 100, rest % 100)
    }
}

/// Uptime: `2 days, 03:04:05` as htop's meter, or `2 days, 03:04` as top's
/// summary line when `seconds_shown` is false; days omitted when zero.
pub fn uptime(seconds: f64, seconds_shown: bool) -> String {
    // `as` saturates, and NaN becomes 0.
    let s = seconds as u64;
    let (days, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    let clock = if seconds_shown {
        format!("{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}")
    };
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        d => format!("{d} days, {clock}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_htop() {
        assert_eq!(human_bytes(0), "0K");
        assert_eq!(human_bytes(4096), "4K");
        assert_eq!(human_bytes(99_999 * 1024), "99999K");
        assert_eq!(human_bytes(100_000 * 1024), "97.7M");
        assert_eq!(human_bytes(3 << 30), "3072M");
        assert_eq!(human_bytes(200 << 30), "200G");
    }

    #[test]
    fn time_plus_reads_like_top() {
        assert_eq!(time_plus(0), "0:00.00");
        assert_eq!(time_plus(61_230_000_000), "1:01.23");
        assert_eq!(
            time_plus(2 * 3600 * 1_000_000_000 + 5 * 60 * 1_000_000_000),
            "2h05:00"
        );
    }

    #[test]
    fn uptime_reads_like_htop_and_top() {
        assert_eq!(uptime(59.0, true), "00:00:59");
        assert_eq!(uptime(86400.0 + 61.0, true), "1 day, 00:01:01");
        assert_eq!(uptime(3.0 * 86400.0 + 3661.0, false), "3 days, 01:01");
        assert_eq!(uptime(f64::NAN, true), "00:00:00");
        assert_eq!(uptime(-5.0, false), "00:00");
    }
}
