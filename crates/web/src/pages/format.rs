//! Small text helpers shared by the pages.

use expedite_core::{Date, Usd};

/// Percent-encodes text for a query string value.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A query string from (key, value) pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", query_escape(value)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A sum of money that cannot overflow in practice; saturates if it ever would.
pub fn sum(amounts: impl IntoIterator<Item = Usd>) -> Usd {
    amounts.into_iter().fold(Usd::ZERO, |total, amount| {
        total.checked_add(amount).unwrap_or(total)
    })
}

/// A sum of money as people read a total: `$109.2B`, `$714.9M`, exact below a million.
pub fn approx(amount: Usd) -> String {
    let dollars = amount.as_dollars_f64();
    if dollars >= 1e9 {
        format!("${:.1}B", dollars / 1e9)
    } else if dollars >= 1e6 {
        format!("${:.1}M", dollars / 1e6)
    } else {
        amount.to_string()
    }
}

/// Stage names as people read them: `loa_development` → `LOA development`.
pub fn stage_label(stage: &str) -> String {
    let text = stage.replace('_', " ");
    text.replace("lor ", "LOR ").replace("loa ", "LOA ")
}

/// Days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    to.duration_since(from).as_secs() / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query(&[("q", "a&b <c>"), ("stage", ""), ("page", "2")]),
            "?q=a%26b%20%3Cc%3E&page=2"
        );
    }

    #[test]
    fn totals_read_in_billions_and_millions() {
        assert_eq!(approx(Usd::from_cents(10_917_804_998_524)), "$109.2B");
        assert_eq!(approx(Usd::from_cents(71_499_999_996)), "$715.0M");
        assert_eq!(approx(Usd::from_cents(12_345)), "$123.45");
    }

    #[test]
    fn stage_labels_keep_the_acronyms() {
        assert_eq!(stage_label("loa_development"), "LOA development");
        assert_eq!(stage_label("lor_received"), "LOR received");
        assert_eq!(stage_label("on_contract"), "on contract");
    }
}
