//! Reaching the case database from a command: its URL, its history key, how long to wait.
//!
//! The key ([`expedite_store::key`]) comes from `EXPEDITE_KEY` (64 hex digits) if set,
//! else from the key file (`--key-file`, `EXPEDITE_KEY_FILE`, or by default `PATH.key`
//! beside a SQLite file and `expedite.key` in the working folder for PostgreSQL). A command
//! that may create ([`Access::Create`]) makes the key file, mode 0600, when the database
//! has no history yet; it never makes one for a database with a history (that would hide
//! the loss of the real key). Reading commands never create a database or a key.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use expedite_store::{HistoryKey, OpenOptions, SqlStore, StoreError};

use crate::output::RuntimeFailure;

/// Where the database is and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, env = "EXPEDITE_DB", default_value = "sqlite://expedite.db")]
    pub db: String,
    /// The history key file (default: PATH.key beside a SQLite file, ./expedite.key for
    /// PostgreSQL). EXPEDITE_KEY (64 hex digits) takes precedence over any file.
    #[arg(long, env = "EXPEDITE_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// How long to wait for the database server to answer, e.g. 5s or 500ms.
    #[arg(long, env = "EXPEDITE_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
}

/// What a command may do to a database that is not there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the SQLite file and the key file if they are missing.
    Create,
    /// Read (or change tokens in) an existing database; a key is needed only to verify.
    Existing {
        /// Whether the history key must be found.
        needs_key: bool,
    },
}

impl DbArgs {
    /// The URL as it may be shown: any password hidden.
    pub fn shown(&self) -> String {
        expedite_store::redact::redact(&self.db)
    }

    fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| expedite_store::key::default_key_path(&self.db))
    }

    /// Opens the store.
    ///
    /// # Errors
    /// A [`RuntimeFailure`] (exit code 1) when the database or the key cannot be reached, read
    /// or made; other errors for bad input (an unsupported URL).
    pub async fn open(&self, access: Access) -> anyhow::Result<SqlStore> {
        let runtime = |error: StoreError| -> anyhow::Error {
            let message = format!("opening the database {}: {error}", self.shown());
            match error {
                StoreError::UnsupportedUrl(_) => anyhow::anyhow!(message),
                _ => RuntimeFailure(anyhow::anyhow!(message)).into(),
            }
        };
        let key = self.key(access).await.map_err(runtime)?;
        let mut options = OpenOptions::new(key);
        options.create = access == Access::Create;
        options.connect_timeout = self.connect_timeout;
        expedite_store::open(&self.db, &options)
            .await
            .map_err(runtime)
    }

    async fn key(&self, access: Access) -> Result<HistoryKey, StoreError> {
        if let Ok(hex) = std::env::var("EXPEDITE_KEY") {
            return HistoryKey::from_hex(&hex)
                .map_err(|_| StoreError::Key("EXPEDITE_KEY is not 64 hex digits".to_owned()));
        }
        let path = self.key_path();
        if path.exists() {
            return HistoryKey::read(&path);
        }
        match access {
            Access::Existing { needs_key: false } => Ok(HistoryKey::generate()),
            Access::Existing { needs_key: true } => Err(StoreError::Key(format!(
                "no key file at {} (set --key-file or EXPEDITE_KEY)",
                path.display()
            ))),
            Access::Create => {
                if expedite_store::sql::holds_history(&self.db, self.connect_timeout).await? {
                    return Err(StoreError::Key(format!(
                        "the database holds a history but its key file {} is missing: restore it from your backup \
                         (or set --key-file or EXPEDITE_KEY); a new key would make every case fail verification",
                        path.display()
                    )));
                }
                let key = HistoryKey::create(&path)?;
                eprintln!(
                    "created the history key {} (mode 0600): back it up; without it the history cannot be verified",
                    path.display()
                );
                Ok(key)
            }
        }
    }
}

/// `5s`, `500ms`, `2m`, `1h` or a plain number of seconds.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 5s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use ms, s, m, h or d"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("'{text}' is not a duration such as 5s, 500ms or 2m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_common_forms() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }
}
