//! The history key: an HMAC-SHA-256 key that lives outside the database.
//!
//! Every event link, every stored case row and the database-wide ledger record are keyed
//! with it, so someone who can write to the database but does not hold the key cannot
//! forge them: an edit shows up in [`crate::Store::verify`] however the hashes are
//! recomputed. The key is 32 random bytes, kept as 64 hex digits in a file created with
//! mode 0600 on the first start (or given in the `EXPEDITE_KEY` environment variable); it
//! is never written to the database. Lose it and the history can no longer be verified:
//! back it up with the database's credentials, not with the database.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ctutils::CtEq as _;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng as _;
use sha2::Sha256;

use crate::StoreError;

/// Length of the key in bytes.
pub const KEY_BYTES: usize = 32;

/// The secret that keys the history. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct HistoryKey([u8; KEY_BYTES]);

impl fmt::Debug for HistoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HistoryKey(<secret>)")
    }
}

impl HistoryKey {
    /// A fresh random key.
    pub fn generate() -> HistoryKey {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        HistoryKey(bytes)
    }

    /// Reads 64 hex digits (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`StoreError::Key`] when the text is not 64 hex digits.
    pub fn from_hex(text: &str) -> Result<HistoryKey, StoreError> {
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
            .ok_or_else(|| {
                StoreError::Key(format!("a history key is {} hex digits", KEY_BYTES * 2))
            })?;
        Ok(HistoryKey(bytes))
    }

    /// Reads the key file at `path`.
    ///
    /// # Errors
    /// [`StoreError::Key`] naming the path when it cannot be read or holds no key.
    pub fn read(path: &Path) -> Result<HistoryKey, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            StoreError::Key(format!(
                "cannot read the key file {}: {error}",
                path.display()
            ))
        })?;
        HistoryKey::from_hex(&text).map_err(|_| {
            StoreError::Key(format!(
                "the key file {} does not hold a key ({} hex digits)",
                path.display(),
                KEY_BYTES * 2
            ))
        })
    }

    /// Creates a key file at `path` (mode 0600, never overwriting) holding a fresh key.
    ///
    /// # Errors
    /// [`StoreError::Key`] naming the path.
    pub fn create(path: &Path) -> Result<HistoryKey, StoreError> {
        let key = HistoryKey::generate();
        let failed = |error: std::io::Error| {
            StoreError::Key(format!(
                "cannot create the key file {}: {error}",
                path.display()
            ))
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(failed)?;
        writeln!(file, "{}", hex::encode(key.0)).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        Ok(key)
    }

    /// A keyed digest of `parts` under a purpose `label`, lower-case hex. Each part is
    /// length-prefixed, so no two different lists of parts give the same input.
    pub fn mac(&self, label: &str, parts: &[&[u8]]) -> String {
        hex::encode(self.mac_bytes(label, parts))
    }

    pub(crate) fn mac_bytes(&self, label: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.keyed(label, parts).finalize().into_bytes());
        out
    }

    fn keyed(&self, label: &str, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable_key_length());
        mac.update(label.as_bytes());
        mac.update(b"\n");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }
}

/// HMAC takes keys of any length; this cannot happen.
fn unreachable_key_length() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new(&Default::default())
}

/// Where the key of a database lives when nothing else is said: beside a SQLite file
/// (`PATH.key`), or `expedite.key` in the working folder for PostgreSQL.
pub fn default_key_path(url: &str) -> PathBuf {
    match crate::sql::sqlite_path(url) {
        Some(path) => {
            let mut name = path.as_os_str().to_owned();
            name.push(".key");
            PathBuf::from(name)
        }
        None => PathBuf::from("expedite.key"),
    }
}

/// Whether the digest `stored` is the digest `expected` (both hex), compared in constant
/// time, so that checking a forged digest tells nothing of how much of it was right. Every
/// keyed digest is checked by recomputing it with [`HistoryKey::mac`] and passing both here.
pub fn same_digest(expected: &str, stored: &str) -> bool {
    match (hex::decode(expected), hex::decode(stored)) {
        (Ok(expected), Ok(stored)) => expected.as_slice().ct_eq(stored.as_slice()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_digest_verifies_only_for_its_own_key_label_and_parts() {
        let key = HistoryKey::from_hex(&"07".repeat(32)).expect("key");
        let stored = key.mac("event", &[b"ab", b"c"]);
        let verifies = |key: &HistoryKey, label: &str, parts: &[&[u8]], stored: &str| {
            same_digest(&key.mac(label, parts), stored)
        };
        assert!(verifies(&key, "event", &[b"ab", b"c"], &stored));
        assert!(verifies(
            &key,
            "event",
            &[b"ab", b"c"],
            &stored.to_uppercase()
        ));
        assert!(!verifies(&key, "event", &[b"ab", b"d"], &stored));
        assert!(!verifies(&key, "case", &[b"ab", b"c"], &stored));
        let other = HistoryKey::from_hex(&"08".repeat(32)).expect("key");
        assert!(!verifies(&other, "event", &[b"ab", b"c"], &stored));
        assert!(
            !verifies(&key, "event", &[b"ab", b"c"], &stored[..62]),
            "a cut digest"
        );
        assert!(!verifies(&key, "event", &[b"ab", b"c"], "not hex"));
    }

    #[test]
    fn macs_depend_on_key_label_and_every_part_boundary() {
        let key = HistoryKey::from_hex(&"11".repeat(32)).expect("key");
        let other = HistoryKey::from_hex(&"22".repeat(32)).expect("key");
        let base = key.mac("event", &[b"ab", b"c"]);
        assert_eq!(base.len(), 64);
        assert_ne!(base, other.mac("event", &[b"ab", b"c"]));
        assert_ne!(base, key.mac("case", &[b"ab", b"c"]));
        assert_ne!(base, key.mac("event", &[b"a", b"bc"]));
        assert!(!format!("{key:?}").contains("11"));
        assert!(HistoryKey::from_hex("abc").is_err());
    }

    #[test]
    fn a_key_file_is_created_once_with_mode_0600() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("db.key");
        let key = HistoryKey::create(&path).expect("create");
        assert_eq!(HistoryKey::read(&path).expect("read"), key);
        assert!(HistoryKey::create(&path).is_err(), "never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
