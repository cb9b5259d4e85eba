//! US dollars as integer cents. Never floats for money.
//!
//! Amounts are non-negative: a case value, a unit price or a threshold. Arithmetic is
//! checked, so an overflow is an error rather than a wrong number.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of US dollars, stored as whole cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd {
    cents: u64,
}

/// Why a text could not be read as dollars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing to read.
    #[error("empty amount")]
    Empty,
    /// A minus sign: amounts here are never negative.
    #[error("amount '{0}' is negative; amounts must be zero or more")]
    Negative(String),
    /// Not a number in any of the accepted forms.
    #[error("amount '{0}' is not a number (use 14000000, 14,000,000, $14M or $1.2B)")]
    Unparseable(String),
    /// More precision than a cent.
    #[error("amount '{0}' has fractions of a cent")]
    FractionOfCent(String),
    /// Too large to hold.
    #[error("amount '{0}' is too large")]
    TooLarge(String),
    /// A sum or product overflowed.
    #[error("money arithmetic overflowed")]
    Overflow,
}

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd { cents: 0 };

    /// Whole dollars.
    pub const fn from_dollars(dollars: u64) -> Option<Usd> {
        match dollars.checked_mul(100) {
            Some(cents) => Some(Usd { cents }),
            None => None,
        }
    }

    /// Millions of dollars, for thresholds written in the way statutes state them.
    pub const fn from_millions(millions: u64) -> Option<Usd> {
        match millions.checked_mul(100_000_000) {
            Some(cents) => Some(Usd { cents }),
            None => None,
        }
    }

    /// Cents.
    pub const fn from_cents(cents: u64) -> Usd {
        Usd { cents }
    }

    /// The amount in cents.
    pub const fn cents(self) -> u64 {
        self.cents
    }

    /// The amount in dollars, as a float for charts and statistics only.
    pub fn as_dollars_f64(self) -> f64 {
        self.cents as f64 / 100.0
    }

    /// `self + other`, or an error on overflow.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_add(self, other: Usd) -> Result<Usd, MoneyError> {
        self.cents
            .checked_add(other.cents)
            .map(Usd::from_cents)
            .ok_or(MoneyError::Overflow)
    }

    /// `self × quantity`, or an error on overflow.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, quantity: u64) -> Result<Usd, MoneyError> {
        self.cents
            .checked_mul(quantity)
            .map(Usd::from_cents)
            .ok_or(MoneyError::Overflow)
    }

    /// The sum of many amounts, or an error on overflow.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_sum(amounts: impl IntoIterator<Item = Usd>) -> Result<Usd, MoneyError> {
        amounts.into_iter().try_fold(Usd::ZERO, Usd::checked_add)
    }

    /// Reads `14000000`, `14,000,000`, `$14M`, `$1.2B`, `250k`, `$3.50`.
    ///
    /// # Errors
    /// A [`MoneyError`] naming the text.
    ///
    /// ```
    /// use expedite_core::Usd;
    /// assert_eq!(Usd::parse("$14M").unwrap(), Usd::parse("14,000,000").unwrap());
    /// assert_eq!(Usd::parse("$1.2B").unwrap().to_string(), "$1.2B");
    /// ```
    pub fn parse(text: &str) -> Result<Usd, MoneyError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(MoneyError::Empty);
        }
        if trimmed.starts_with('-') {
            return Err(MoneyError::Negative(text.to_owned()));
        }
        let unsigned = trimmed.strip_prefix('$').unwrap_or(trimmed).trim();
        let (number, scale) = split_suffix(unsigned);
        if number.contains(',') && !grouped_by_thousands(number) {
            return Err(MoneyError::Unparseable(text.to_owned()));
        }
        let digits: String = number.chars().filter(|&c| c != ',' && c != '_').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(MoneyError::Unparseable(text.to_owned()));
        }
        decimal_to_cents(&digits, scale, text)
    }

    /// A short form for tables: `$14M`, `$1.25B`, `$950K`, exact where it is shown short,
    /// otherwise the full amount.
    pub fn short(self) -> String {
        self.to_string()
    }
}

/// Whether the commas of `number` separate thousands, as in `14,000,000.50`: one to three
/// digits, then groups of exactly three, and none after the decimal point.
fn grouped_by_thousands(number: &str) -> bool {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let mut groups = whole.split(',');
    let leading = groups.next().unwrap_or_default();
    !fraction.contains(',')
        && (1..=3).contains(&leading.len())
        && groups.all(|group| group.len() == 3)
}

fn split_suffix(text: &str) -> (&str, u64) {
    let lower = text.to_ascii_lowercase();
    for (suffix, scale) in [
        ("billion", 1_000_000_000),
        ("million", 1_000_000),
        ("bn", 1_000_000_000),
        ("b", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
    ] {
        if lower.ends_with(suffix) {
            return (text[..text.len() - suffix.len()].trim_end(), scale);
        }
    }
    (text, 1)
}

fn decimal_to_cents(digits: &str, scale: u64, original: &str) -> Result<Usd, MoneyError> {
    let unparseable = || MoneyError::Unparseable(original.to_owned());
    let too_large = || MoneyError::TooLarge(original.to_owned());
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) if !fraction.contains('.') => (whole, fraction),
        Some(_) => return Err(unparseable()),
        None => (digits, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(unparseable());
    }
    let unit_cents = scale * 100;
    let whole_value: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut cents = whole_value.checked_mul(unit_cents).ok_or_else(too_large)?;
    let mut place = unit_cents;
    for digit in fraction.chars() {
        let value = u64::from(digit.to_digit(10).ok_or_else(unparseable)?);
        if !place.is_multiple_of(10) {
            if value != 0 {
                return Err(MoneyError::FractionOfCent(original.to_owned()));
            }
            continue;
        }
        place /= 10;
        cents = cents.checked_add(value * place).ok_or_else(too_large)?;
    }
    Ok(Usd { cents })
}

impl fmt::Display for Usd {
    /// People read `$14M` and `$1.2B`; a compact form is used only when it is exact, so a
    /// value a dollar below a threshold never prints as the threshold.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit_cents, suffix) in [(100_000_000_000, "B"), (100_000_000, "M"), (100_000, "K")] {
            if self.cents >= unit_cents
                && let Some(compact) = exact_compact(self.cents, unit_cents, suffix)
            {
                return f.write_str(&compact);
            }
        }
        f.write_str(&full_form(self.cents))
    }
}

fn exact_compact(cents: u64, unit_cents: u64, suffix: &str) -> Option<String> {
    let hundredths = unit_cents / 100;
    if !cents.is_multiple_of(hundredths) {
        return None;
    }
    let whole = cents / unit_cents;
    let fraction = (cents % unit_cents) / hundredths;
    let text = match fraction {
        0 => format!("${}{suffix}", group_thousands(whole)),
        f if f % 10 == 0 => format!("${}.{}{suffix}", group_thousands(whole), f / 10),
        f => format!("${}.{f:02}{suffix}", group_thousands(whole)),
    };
    Some(text)
}

fn full_form(cents: u64) -> String {
    let dollars = group_thousands(cents / 100);
    match cents % 100 {
        0 => format!("${dollars}"),
        rest => format!("${dollars}.{rest:02}"),
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

impl std::str::FromStr for Usd {
    type Err = MoneyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Usd::parse(text)
    }
}

/// On the wire, money is a number of whole dollars when it has no cents, else a decimal
/// string would lose nothing either; we use dollars as a JSON number with at most two
/// decimals, which every client reads.
impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.cents.is_multiple_of(100) {
            serializer.serialize_u64(self.cents / 100)
        } else {
            serializer.serialize_f64(self.as_dollars_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Whole(u64),
            Signed(#[allow(dead_code, reason = "only its sign matters")] i64),
            Decimal(f64),
            Text(String),
        }
        match Wire::deserialize(deserializer)? {
            Wire::Whole(dollars) => Usd::from_dollars(dollars)
                .ok_or_else(|| serde::de::Error::custom("amount is too large")),
            Wire::Signed(_) => Err(serde::de::Error::custom(
                "amount is negative; amounts must be zero or more",
            )),
            Wire::Decimal(value) => {
                Usd::parse(&format!("{value}")).map_err(serde::de::Error::custom)
            }
            Wire::Text(text) => Usd::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dollars(value: u64) -> Usd {
        Usd::from_dollars(value).expect("small test value")
    }

    #[test]
    fn the_accepted_written_forms_all_read_the_same() {
        for text in [
            "14000000",
            "14,000,000",
            "$14M",
            "$14 million",
            "14m",
            "$14,000,000.00",
        ] {
            assert_eq!(Usd::parse(text), Ok(dollars(14_000_000)), "{text}");
        }
        assert_eq!(Usd::parse("$1.2B"), Ok(dollars(1_200_000_000)));
        assert_eq!(Usd::parse("250k"), Ok(dollars(250_000)));
        assert_eq!(Usd::parse("$3.50"), Ok(Usd::from_cents(350)));
    }

    #[test]
    fn negative_and_garbage_amounts_are_refused_with_the_text() {
        assert_eq!(Usd::parse("-5"), Err(MoneyError::Negative("-5".into())));
        assert!(matches!(Usd::parse("lots"), Err(MoneyError::Unparseable(t)) if t == "lots"));
        assert!(matches!(
            Usd::parse("1.2.3"),
            Err(MoneyError::Unparseable(_))
        ));
        assert!(matches!(
            Usd::parse("0.001"),
            Err(MoneyError::FractionOfCent(_))
        ));
        assert!(matches!(
            Usd::parse("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
        assert_eq!(Usd::parse("  "), Err(MoneyError::Empty));
    }

    #[test]
    fn commas_must_separate_thousands() {
        for text in [
            "1,2,3",
            "14,00,0000",
            ",000",
            "1,000,",
            "1000,000",
            "1,000.000,5",
            "$1,0M",
        ] {
            assert!(
                matches!(Usd::parse(text), Err(MoneyError::Unparseable(t)) if t == text),
                "{text} should be refused"
            );
        }
        assert_eq!(Usd::parse("1,000"), Ok(dollars(1_000)));
        assert_eq!(Usd::parse("$1,200.5M"), Ok(dollars(1_200_500_000)));
    }

    #[test]
    fn display_is_compact_only_when_exact() {
        assert_eq!(dollars(14_000_000).to_string(), "$14M");
        assert_eq!(dollars(13_999_999).to_string(), "$13,999,999");
        assert_eq!(dollars(1_200_000_000).to_string(), "$1.2B");
        assert_eq!(dollars(14_250_000).to_string(), "$14.25M");
        assert_eq!(dollars(950_000).to_string(), "$950K");
        assert_eq!(dollars(999).to_string(), "$999");
        assert_eq!(Usd::from_cents(12_345).to_string(), "$123.45");
    }

    #[test]
    fn json_round_trip_keeps_every_cent() {
        for amount in [dollars(14_000_000), Usd::from_cents(350), Usd::ZERO] {
            let json = serde_json::to_string(&amount).expect("serialise");
            let back: Usd = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, amount);
        }
        assert!(serde_json::from_str::<Usd>("-3").is_err());
    }

    proptest::proptest! {
        #[test]
        fn sums_never_overflow_silently(values in proptest::collection::vec(proptest::num::u64::ANY, 0..6)) {
            let amounts = values.iter().map(|&cents| Usd::from_cents(cents));
            let exact: u128 = values.iter().map(|&cents| u128::from(cents)).sum();
            match Usd::checked_sum(amounts) {
                Ok(sum) => proptest::prop_assert_eq!(u128::from(sum.cents()), exact),
                Err(error) => {
                    proptest::prop_assert_eq!(error, MoneyError::Overflow);
                    proptest::prop_assert!(exact > u128::from(u64::MAX));
                }
            }
        }

        #[test]
        fn display_then_parse_is_identity(cents in 0u64..10_000_000_000_000) {
            let amount = Usd::from_cents(cents);
            proptest::prop_assert_eq!(Usd::parse(&amount.to_string()), Ok(amount));
        }
    }
}
