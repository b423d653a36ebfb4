//! Sizes and times as htop and top print them, shared by the interface's
//! columns and header and by the text output.

/// htop-style human size of a byte count: K below 100 MiB, then M, G, T
/// (the process columns' form). Whole units, or one decimal below 100,
/// rounded half to even as `{:.0}`/`{:.1}` round the exact quotient; done
/// in integers, because std's formatter takes a slow exact path (bignums)
/// for many such numbers, and batch mode prints three per process.
pub fn human_bytes(bytes: u64) -> String {
    HumanBytes(bytes).to_string()
}

/// [`human_bytes`] written straight into a formatter (padding honoured),
/// without a String per number: batch text prints three per process.
pub struct HumanBytes(pub u64);

impl std::fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [char; 4] = ['K', 'M', 'G', 'T'];
        let exact = self.0;
        let mut shift = 10;
        let mut unit = 0;
        // exact >= 100 000 << shift, without overflowing.
        while exact >> shift >= 100_000 && unit + 1 < UNITS.len() {
            shift += 10;
            unit += 1;
        }
        let mut text = Digits::default();
        if unit == 0 || exact >> shift >= 100 {
            text.number(rounded(exact, 1 << shift));
        } else {
            // Below 100 units of at most 2^40: exact * 10 fits.
            let tenths = rounded(exact * 10, 1 << shift);
            text.number(tenths / 10);
            text.push(b'.');
            text.number(tenths % 10);
        }
        text.push(UNITS[unit] as u8);
        f.pad(text.as_str())
    }
}

/// `n / d` rounded to the nearest whole number, ties to even.
fn rounded(n: u64, d: u64) -> u64 {
    let (q, r) = (n / d, n % d);
    match r.cmp(&(d - r)) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
        std::cmp::Ordering::Less => q,
    }
}

/// A few ASCII characters on the stack, for [`HumanBytes`] and [`TimePlus`].
#[derive(Default)]
struct Digits {
    bytes: [u8; 32],
    len: usize,
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.len + s.len() > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        for b in s.bytes() {
            self.push(b);
        }
        Ok(())
    }
}

impl Digits {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn number(&mut self, n: u64) {
        let mut reversed = [0u8; 20];
        let mut count = 0;
        let mut n = n;
        loop {
            reversed[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in reversed[..count].iter().rev() {
            self.push(d);
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, '.' and unit letters are pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?")
    }
}

/// A size as htop 3.2 prints its memory columns, in at most 5 characters:
/// KiB as a plain number below 100 000 KiB, then whole MiB (`708M`,
/// `3016M`), GiB with one decimal below 100 GiB (`12.2G`), whole GiB,
/// then the same in TiB, PiB and EiB. Whole numbers are cut, as htop cuts
/// them; the one decimal is rounded to the nearest tenth (htop counts its
/// tenths of a GiB in 100 MiB steps, which overstates them).
pub fn column_size(bytes: u64) -> String {
    const K: u64 = 1024;
    let kib = bytes / K;
    if kib < 100_000 {
        return kib.to_string();
    }
    let mib = kib / K;
    if mib < 10_000 {
        return format!("{mib}M");
    }
    let mut unit_kib = K * K;
    let mut text = String::new();
    for unit in ["G", "T", "P", "E"] {
        // Tenths of the unit, rounded (u128: no overflow near u64::MAX).
        let tenths = (u128::from(kib) * 10 + u128::from(unit_kib / 2)) / u128::from(unit_kib);
        let whole = kib / unit_kib;
        text = if tenths < 1000 {
            format!("{}.{}{unit}", tenths / 10, tenths % 10)
        } else {
            format!("{whole}{unit}")
        };
        if tenths < 1000 || whole < 10_000 {
            break;
        }
        unit_kib *= K;
    }
    text
}

/// A rate in bytes per second, scaled and saying so: `0B/s`, `512B/s`,
/// `1.5K/s`, `96K/s`, `12M/s` (1024-based; one decimal below 10 of a
/// unit); at most 6 characters.
pub fn rate_per_second(bytes_per_second: f64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    // NaN, infinite and negative rates read as 0.
    let mut value = if bytes_per_second.is_finite() {
        bytes_per_second.max(0.0)
    } else {
        0.0
    };
    let mut unit = 0;
    // Scale while the number printed would need 4 digits.
    while unit + 1 < UNITS.len() && value >= 999.5 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0}B/s")
    } else if value < 9.95 {
        format!("{value:.1}{}/s", UNITS[unit])
    } else {
        format!("{value:.0}{}/s", UNITS[unit])
    }
}

/// TIME+ as top and htop print it: minutes:seconds.hundredths, or hours
/// once it passes 100 minutes.
pub fn time_plus(ns: u64) -> String {
    TimePlus(ns).to_string()
}

/// [`time_plus`] written straight into a formatter (padding honoured).
pub struct TimePlus(pub u64);

impl std::fmt::Display for TimePlus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        let hundredths = self.0 / 10_000_000;
        let (minutes, rest) = (hundredths / 6000, hundredths % 6000);
        let mut text = Digits::default();
        if minutes >= 100 {
            write!(
                text,
                "{}h{:02}:{:02}",
                minutes / 60,
                minutes % 60,
                rest / 100
            )?;
        } else {
            write!(text, "{}:{:02}.{:02}", minutes, rest / 100, rest % 100)?;
        }
        f.pad(text.as_str())
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

    /// What human_bytes printed through floats: std's formatting of the
    /// quotient, the truth the integer version must match.
    fn human_bytes_by_floats(bytes: u64) -> String {
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

    #[test]
    fn sizes_round_as_std_formats_the_quotient() {
        let mut sizes: Vec<u64> = Vec::new();
        // Around every rounding edge of each unit: ties, and one either side.
        for unit in 0..4u32 {
            let d = 1024u64.pow(unit + 1);
            for k in [
                1u64, 2, 3, 99, 100, 101, 999, 1000, 99_999, 100_000, 100_001,
            ] {
                for base in [k * d, k * d + d / 2, k * d + d / 20, k * d + d / 20 * 3] {
                    sizes.extend([base.saturating_sub(1), base, base + 1]);
                }
            }
        }
        // And a spread of ordinary sizes.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sizes.push(x >> (x % 50 + 10));
        }
        for b in sizes.into_iter().filter(|&b| b < 1 << 53) {
            assert_eq!(human_bytes(b), human_bytes_by_floats(b), "{b} bytes");
        }
    }

    #[test]
    fn sizes_read_like_htop() {
        assert_eq!(human_bytes(0), "0K");
        assert_eq!(human_bytes(4096), "4K");
        assert_eq!(human_bytes(99_999 * 1024), "99999K");
        assert_eq!(human_bytes(100_000 * 1024), "97.7M");
        assert_eq!(human_bytes(3 << 30), "3072M");
        assert_eq!(human_bytes(200 << 30), "200G");
    }

    /// Shapes and figures observed in htop 3.2 on processes of known
    /// size (VmSize from /proc/PID/status, KiB): 64064 K, 708 MiB, 3016 MiB,
    /// 146 GiB, 1464 GiB; and 12444 MiB, where htop says 12.4G but the size
    /// is 12.15 GiB.
    #[test]
    fn column_sizes_read_like_htop() {
        let kib = |k: u64| column_size(k * 1024);
        assert_eq!(kib(0), "0");
        assert_eq!(kib(64_064), "64064");
        assert_eq!(kib(99_999), "99999");
        assert_eq!(kib(100_000), "97M");
        assert_eq!(kib(708 * 1024 + 1000), "708M");
        assert_eq!(kib(3_088_600), "3016M");
        assert_eq!(kib(12_444 * 1024), "12.2G");
        assert_eq!(kib(10_000 * 1024), "9.8G");
        assert_eq!(kib(153_616_600), "146G");
        assert_eq!(kib(1_536_016_600), "1464G");
        assert_eq!(column_size(99 << 40), "99.0T");
        assert_eq!(column_size(u64::MAX), "16.0E");
        for shift in 0..64 {
            for bytes in [
                1u64 << shift,
                (1u64 << shift) - 1,
                (1u64 << shift).saturating_mul(3) / 2,
            ] {
                assert!(
                    column_size(bytes).len() <= 5,
                    "{bytes}: {}",
                    column_size(bytes)
                );
            }
        }
    }

    #[test]
    fn rates_say_per_second() {
        assert_eq!(rate_per_second(0.0), "0B/s");
        assert_eq!(rate_per_second(-3.0), "0B/s");
        assert_eq!(rate_per_second(f64::NAN), "0B/s");
        assert_eq!(rate_per_second(512.0), "512B/s");
        assert_eq!(rate_per_second(1536.0), "1.5K/s");
        assert_eq!(rate_per_second(96.0 * 1024.0), "96K/s");
        assert_eq!(rate_per_second(999.0 * 1024.0), "999K/s");
        assert_eq!(rate_per_second(1000.0 * 1024.0), "1.0M/s");
        assert_eq!(rate_per_second(12.0 * 1024.0 * 1024.0), "12M/s");
        assert_eq!(rate_per_second(f64::INFINITY), "0B/s");
        for exp in 0..60 {
            let r = rate_per_second(2f64.powi(exp) * 1.37);
            assert!(r.len() <= 6, "{r}");
        }
    }

    #[test]
    fn the_formatters_pad_as_strings_do() {
        for ns in [0, 61_230_000_000, 6_000_000_000_000, u64::MAX] {
            let s = time_plus(ns);
            assert_eq!(
                format!("{:>9}|{:<12}", TimePlus(ns), TimePlus(ns)),
                format!("{s:>9}|{s:<12}")
            );
        }
        for b in [0, 1023, 1 << 20, 123_456_789, u64::MAX] {
            let s = human_bytes(b);
            assert_eq!(
                format!("{:>6}|{:<7}", HumanBytes(b), HumanBytes(b)),
                format!("{s:>6}|{s:<7}")
            );
        }
        assert_eq!(time_plus(u64::MAX), "5124095h34:33");
        assert_eq!(human_bytes(u64::MAX), "16777216T");
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
