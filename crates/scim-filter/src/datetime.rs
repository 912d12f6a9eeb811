//! `dateTime` values (RFC 7643 §2.3.5: an `xsd:dateTime`, e.g. `2011-05-13T04:42:34Z`) as
//! instants, so that `gt`/`ge`/`lt`/`le` compare chronologically (RFC 7644 §3.4.2.2).

use std::fmt;

/// An instant: seconds since 1970-01-01T00:00:00Z plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds since the Unix epoch (negative before 1970).
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

fn num(b: &[u8], range: std::ops::Range<usize>) -> Option<i64> {
    let s = b.get(range)?;
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for c in s {
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Instant {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (xsd:dateTime, RFC 3339 §5.6). A value
    /// without a zone designator is taken as UTC. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Instant> {
        let b = s.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (y, mo, d) = (num(b, 0..4)?, num(b, 5..7)?, num(b, 8..10)?);
        let (h, mi, sec) = (num(b, 11..13)?, num(b, 14..16)?, num(b, 17..19)?);
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 60
        {
            return None;
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..9 {
                nanos *= 10;
            }
        }
        let offset_secs = match b.get(i) {
            None => 0,
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(&c @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let (oh, om) = (num(b, i + 1..i + 3)?, num(b, i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if c == b'+' {
                    o
                } else {
                    -o
                }
            }
            _ => return None,
        };
        let seconds = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
        Some(Instant { seconds, nanos })
    }

    /// Writes the instant in UTC with the given number of fraction digits (0 to 9), e.g.
    /// `2011-05-13T04:42:34.000000Z` for 6. Digits beyond are truncated.
    pub fn format_utc(&self, fraction_digits: u32) -> String {
        let days = self.seconds.div_euclid(86_400);
        let rem = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        push_fraction(&mut s, self.nanos, fraction_digits);
        s.push('Z');
        s
    }

    /// LDAP GeneralizedTime (RFC 4517 §3.3.13) in UTC, `YYYYMMDDHHMMSS[.f]Z`.
    pub fn format_generalized_time(&self) -> String {
        let days = self.seconds.div_euclid(86_400);
        let rem = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = format!(
            "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        if self.nanos != 0 {
            let mut frac = format!("{:09}", self.nanos);
            while frac.ends_with('0') {
                frac.pop();
            }
            s.push('.');
            s.push_str(&frac);
        }
        s.push('Z');
        s
    }
}

fn push_fraction(s: &mut String, nanos: u32, digits: u32) {
    let digits = digits.min(9);
    if digits == 0 {
        return;
    }
    let frac = format!("{nanos:09}");
    s.push('.');
    s.push_str(&frac[..digits as usize]);
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_utc(if self.nanos == 0 { 0 } else { 9 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_examples_and_offsets() {
        let a = Instant::parse("2011-05-13T04:42:34Z").expect("valid");
        assert_eq!(a.seconds, 1_305_261_754);
        let b = Instant::parse("2011-05-13T06:42:34+02:00").expect("valid");
        assert_eq!(a, b);
        let c = Instant::parse("2011-05-13T04:42:34.5Z").expect("valid");
        assert!(c > a);
        assert_eq!(c.nanos, 500_000_000);
        assert_eq!(a.format_utc(6), "2011-05-13T04:42:34.000000Z");
        assert_eq!(c.format_generalized_time(), "20110513044234.5Z");
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "2011-13-01T00:00:00Z",
            "2011-02-30T00:00:00Z",
            "2011-05-13 04:42:34Z",
            "2011-05-13T04:42:34.Z",
            "2011-05-13T04:42:34+0200",
            "bjensen",
            "",
        ] {
            assert_eq!(Instant::parse(s), None, "{s}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 10_957, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
