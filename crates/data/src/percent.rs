//! Percentages as published: two decimals, held as whole hundredths so that "at or above
//! 2%" is an exact comparison (2.00 must count, whatever binary floating point says).

use std::fmt;

use serde::{Serialize, Serializer};

/// A percentage with two decimals, e.g. 2.00 (% of GDP) or 35.83 (% of defence spending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(i32);

impl Percent {
    /// From whole hundredths of a percent: `from_hundredths(200)` is 2.00%.
    pub const fn from_hundredths(hundredths: i32) -> Self {
        Percent(hundredths)
    }

    /// From a number of percent, rounded to the nearest hundredth. `None` when not finite
    /// or out of range.
    pub fn from_f64(percent: f64) -> Option<Self> {
        let hundredths = (percent * 100.0).round();
        (hundredths.is_finite() && hundredths.abs() < f64::from(i32::MAX))
            .then_some(Percent(hundredths as i32))
    }

    /// Parses a published figure such as `2`, `2.0` or `1.95` (at most two decimals).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() || fraction.len() > 2 {
            return None;
        }
        if !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|byte| byte.is_ascii_digit())
        {
            return None;
        }
        let whole: i32 = whole.parse().ok()?;
        let fraction: i32 = format!("{fraction:0<2}").parse().ok()?;
        let hundredths = whole.checked_mul(100)?.checked_add(fraction)?;
        Some(Percent(if negative { -hundredths } else { hundredths }))
    }

    /// Whole hundredths of a percent.
    pub const fn hundredths(self) -> i32 {
        self.0
    }

    /// The value in percent, for display and JSON.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.as_f64())
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::Percent;

    #[test]
    fn parses_published_figures_exactly() {
        assert_eq!(Percent::parse("2.00"), Some(Percent::from_hundredths(200)));
        assert_eq!(Percent::parse("2"), Some(Percent::from_hundredths(200)));
        assert_eq!(Percent::parse("1.9"), Some(Percent::from_hundredths(190)));
        assert_eq!(
            Percent::parse("35.83"),
            Some(Percent::from_hundredths(3583))
        );
        assert_eq!(Percent::parse("-0.25"), Some(Percent::from_hundredths(-25)));
        assert_eq!(Percent::parse("1.955"), None);
        assert_eq!(Percent::parse(""), None);
        assert_eq!(Percent::parse("two"), None);
    }

    #[test]
    fn rounds_floats_to_hundredths() {
        assert_eq!(Percent::from_f64(3.5), Some(Percent::from_hundredths(350)));
        assert_eq!(
            Percent::from_f64(0.1 + 0.2),
            Some(Percent::from_hundredths(30))
        );
        assert_eq!(Percent::from_f64(f64::NAN), None);
    }
}
