//! Hiding secrets in text that reaches a person: error messages and log lines.
//!
//! A database URL can carry a password in its user information
//! (`postgres://app:S3cret@host/db`, even with a raw `/` or `@` in it) or in a query
//! parameter (`?password=…`, `sslpassword=…`). [`redact`] replaces each such secret with
//! `***` wherever a URL appears in a text, and leaves everything else as it was.

/// `text` with every password in a URL (user information or a `password=` parameter)
/// replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        // The scheme: letters, digits, '+', '-', '.' before "://".
        let scheme_start = rest[..found]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |position| position + 1);
        // The URL runs to the next whitespace or quote.
        let after = found + 3;
        let end = rest[after..]
            .find(|c: char| c.is_whitespace() || "'\"`<>".contains(c))
            .map_or(rest.len(), |position| after + position);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    redact_password_params(&out)
}

/// One URL with the password of its user information hidden. The user information ends
/// at the last `@` before the query, so a password holding `/` or `@` is hidden whole.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let query_start = rest.find('?').unwrap_or(rest.len());
    let Some(at) = rest[..query_start].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Hides the value of every `password=` (or `…password=`) parameter, up to `&`, a space or
/// a quote.
fn redact_password_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password=") {
        let value_start = search + found + "password=".len();
        let value_end = text[value_start..]
            .find(|c: char| c == '&' || c.is_whitespace() || "'\"`".contains(c))
            .map_or(text.len(), |position| value_start + position);
        out.push_str(&text[copied..value_start]);
        if value_end > value_start {
            out.push_str("***");
        }
        copied = value_end;
        search = value_end.max(value_start);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden_wherever_they_appear() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/expedite",
                "postgres://app:***@db:5432/expedite",
            ),
            (
                "postgres://postgres@127.0.0.1/x",
                "postgres://postgres@127.0.0.1/x",
            ),
            ("sqlite://expedite.db", "sqlite://expedite.db"),
            // The mistyped scheme of the attack report, quoted inside a message.
            (
                "unsupported database URL 'postgress://app:S3cretPW@db/x': expected …",
                "unsupported database URL 'postgress://app:***@db/x': expected …",
            ),
            // A raw '/' and '@' inside the password.
            ("postgres://app:p/ss@w0rd@db/x", "postgres://app:***@db/x"),
            (
                "postgres://db/x?user=app&password=S3cret&sslmode=disable",
                "postgres://db/x?user=app&password=***&sslmode=disable",
            ),
            (
                "connect: sslpassword=abc def",
                "connect: sslpassword=*** def",
            ),
        ];
        for (text, shown) in cases {
            assert_eq!(redact(text), shown, "{text}");
        }
    }
}
