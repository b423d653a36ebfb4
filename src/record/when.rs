//! The times and amounts the recorder's command line takes: `--from`,
//! `--to`, `--at` (a moment) and `--retain` (an age or a size).

/// A moment: seconds since the Unix epoch (`1765100000.5`, as the JSON's
/// "time" shows), a UTC date and time (`2026-12-07T03:12:00Z`, `2026-12-07
/// 03:12`, the `Z` optional), or a time ago (`-10m`, `-2h`, `-1d`).
/// `now`: the current time, for the last form.
pub fn parse_moment(text: &str, now: f64) -> Result<f64, String> {
    let text = text.trim();
    if let Some(ago) = text.strip_prefix('-') {
        return parse_age(ago).map(|secs| now - secs);
    }
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() {
            return Ok(secs);
        }
    }
    parse_utc(text).ok_or_else(|| {
        format!(
            "\"{text}\" is not a time: give seconds since the epoch, a UTC date and time \
             (2026-12-07T03:12:00Z) or a time ago (-10m)"
        )
    })
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z]`, UTC.
fn parse_utc(text: &str) -> Option<f64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut t = time.split(':');
    let hour: u32 = t.next()?.parse().ok()?;
    let minute: u32 = t.next()?.parse().ok()?;
    let second: f64 = match t.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if t.next().is_some() || hour > 23 || minute > 59 || !(0.0..61.0).contains(&second) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days as f64 * 86_400.0 + f64::from(hour * 3600 + minute * 60) + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC date and time for people: `2026-12-07 03:12:05`.
pub fn format_utc(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // The inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// An age: a number and a unit, s m h d w (`90s`, `10m`, `7d`).
pub fn parse_age(text: &str) -> Result<f64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not an age such as 90s, 10m, 12h, 7d or 2w"))?;
    let unit = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 7.0 * 86_400.0,
        _ => {
            return Err(format!(
                "\"{text}\" is not an age such as 90s, 10m, 12h, 7d or 2w"
            ))
        }
    };
    Ok(n * unit)
}

/// What `--retain` keeps: frames younger than an age, or frames within a
/// size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retain {
    Age(f64),
    Bytes(u64),
}

/// `7d` (an age, as [`parse_age`]) or `2GiB`, `500MiB`, `1GB` (a size:
/// B, KiB, MiB, GiB, TiB or the decimal kB, MB, GB, TB).
pub fn parse_retain(text: &str) -> Result<Retain, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let size = match unit {
        "B" => Some(1u64),
        "KiB" | "K" => Some(1 << 10),
        "MiB" | "M" => Some(1 << 20),
        "GiB" | "G" => Some(1 << 30),
        "TiB" | "T" => Some(1 << 40),
        "kB" | "KB" => Some(1000),
        "MB" => Some(1_000_000),
        "GB" => Some(1_000_000_000),
        "TB" => Some(1_000_000_000_000),
        _ => None,
    };
    let bad = || format!("\"{text}\" is neither an age (7d, 12h) nor a size (2GiB, 500MiB)");
    match size {
        Some(unit) => {
            let n: f64 = number.parse().map_err(|_| bad())?;
            let bytes = n * unit as f64;
            if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
                return Err(bad());
            }
            Ok(Retain::Bytes(bytes as u64))
        }
        None => match parse_age(text) {
            Ok(secs) if secs > 0.0 => Ok(Retain::Age(secs)),
            _ => Err(bad()),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn moments_in_each_form() {
        // date -u -d 2026-12-07T03:12:00Z +%s
        assert_eq!(
            parse_moment("2026-12-07T03:12:00Z", 0.0),
            Ok(1_796_613_120.0)
        );
        assert_eq!(parse_moment("2026-12-07 03:12", 0.0), Ok(1_796_613_120.0));
        assert_eq!(parse_moment("1970-01-01T00:00:01.5", 0.0), Ok(1.5));
        assert_eq!(parse_moment("1765100000.25", 0.0), Ok(1_765_100_000.25));
        assert_eq!(parse_moment("-10m", 1000.0), Ok(400.0));
        assert!(parse_moment("yesterday", 0.0).is_err());
        assert!(parse_moment("2026-13-07T03:12", 0.0).is_err());
        assert_eq!(format_utc(1_796_613_125.7), "2026-12-07 03:12:05");
        assert_eq!(format_utc(951_782_400.0), "2000-02-29 00:00:00");
    }

    #[test]
    fn retention_is_an_age_or_a_size() {
        assert_eq!(parse_retain("7d"), Ok(Retain::Age(604_800.0)));
        assert_eq!(parse_retain("12h"), Ok(Retain::Age(43_200.0)));
        assert_eq!(parse_retain("2GiB"), Ok(Retain::Bytes(2 << 30)));
        assert_eq!(parse_retain("500MB"), Ok(Retain::Bytes(500_000_000)));
        for bad in ["", "7", "7x", "GiB", "-1d", "0d"] {
            assert!(parse_retain(bad).is_err(), "{bad}");
        }
    }
}
