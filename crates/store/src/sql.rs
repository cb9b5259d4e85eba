//! The SQL implementation of [`Store`], for SQLite and PostgreSQL alike.
//!
//! Both backends run the same queries through sqlx's `Any` driver (`$N` placeholders work
//! in both; dates and timestamps are ISO text). What differs lives in [`Backend`]: the
//! migrations, the connection setup and how a write transaction begins. SQLite gets one
//! writer connection (`BEGIN IMMEDIATE`, so writers queue instead of failing on a busy
//! database) and a pool of readers; PostgreSQL one pool for both.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use expedite_core::forecast_alerts::ForecastSnapshot;
use expedite_core::machine::Case;
use expedite_core::{Agency, CaseId, Country, Event, NewCase, RuleBook};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::chain::{self, ChainEnd, EventBody, EventRow, GENESIS, StoredHistory, Verification};
use crate::key::{HistoryKey, same_digest};
use crate::model::{Author, CaseFilter, CasePage, Change, EventRecord, Scope, StoredCase};
use crate::projection::{CASE_COLUMNS, CaseRow, LineRow, Projection};
use crate::snapshots;
use crate::token::{self, IssuedToken, NewToken, Role, TokenInfo};
use crate::{DatabaseVerification, LedgerHead, Store, StoreError, samm};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite readers: enough to keep both cores busy while the writer waits on the disk.
const SQLITE_READERS: u32 = 8;
/// PostgreSQL connections per server process.
const POSTGRES_CONNECTIONS: u32 = 16;
/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;
/// The ledger digest of a database without cases.
const EMPTY_DIGEST: &str = GENESIS;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The key the history is kept under ([`crate::key`]).
    pub key: HistoryKey,
    /// Whether a missing SQLite file may be created (a reading command says no).
    pub create: bool,
    /// How long to wait for a database connection (PostgreSQL: the server answering).
    pub connect_timeout: Duration,
}

impl OpenOptions {
    /// Opens under `key`, creating a SQLite file if needed, waiting 5 s for a connection.
    pub fn new(key: HistoryKey) -> OpenOptions {
        OpenOptions {
            key,
            create: true,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The file a `sqlite:` URL names, if it names one (not `:memory:`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`].
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(crate::redact::redact(url)))
        }
    }
}

/// The store over a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    backend: Backend,
    reader: AnyPool,
    writer: AnyPool,
    rules: RuleBook,
    key: HistoryKey,
}

impl SqlStore {
    /// Connects to the database a URL names, creating a SQLite file if needed, and runs the
    /// backend's migrations.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`], [`StoreError::Database`], [`StoreError::Migration`],
    /// or [`StoreError::Corrupt`] if the compiled-in rules do not load.
    pub async fn open(url: &str, options: &OpenOptions) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let rules = RuleBook::builtin().map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let (reader, writer) = match backend {
            Backend::Sqlite => open_sqlite(url, options).await?,
            Backend::Postgres => open_postgres(url, options.connect_timeout).await?,
        };
        let store = SqlStore {
            backend,
            reader,
            writer,
            rules,
            key: options.key.clone(),
        };
        if options.create {
            store.start_ledger().await?;
        }
        Ok(store)
    }

    /// Writes the ledger's first record into a database that has no history yet. A
    /// database with a history and no ledger record is left alone: its record was removed,
    /// and recreating it would hide that.
    async fn start_ledger(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let has_ledger = sqlx::query("SELECT id FROM ledger WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !has_ledger {
            let history: i64 = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM events) AS n",
            )
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if history == 0 {
                sqlx::query(
                    "INSERT INTO ledger (id, cases, digest, mac) VALUES (1, 0, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(EMPTY_DIGEST)
                .bind(ledger_mac(&self.key, 0, EMPTY_DIGEST))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Folds one case's chain end into the ledger record (taking `old` out first), inside a
    /// write transaction; refuses to write over a record that does not verify.
    async fn advance_ledger(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &CaseId,
        old: Option<&ChainEnd>,
        new: &ChainEnd,
    ) -> Result<(), StoreError> {
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT cases, digest, mac FROM ledger WHERE id = 1{lock}"
        )))
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(
                "the ledger record is missing: run `expedite verify` on this database".to_owned(),
            )
        })?;
        let cases: i64 = row.try_get("cases")?;
        let digest: String = row.try_get("digest")?;
        let mac: String = row.try_get("mac")?;
        if !same_digest(&ledger_mac(&self.key, cases, &digest), &mac) {
            return Err(StoreError::Corrupt(
                "the ledger record does not verify under this key: run `expedite verify`"
                    .to_owned(),
            ));
        }
        let mut folded = digest_bytes(&digest)?;
        if let Some(old) = old {
            xor_into(&mut folded, &case_term(&self.key, id, old));
        }
        xor_into(&mut folded, &case_term(&self.key, id, new));
        let cases = cases + i64::from(old.is_none());
        let digest = hex::encode(folded);
        sqlx::query("UPDATE ledger SET cases = $1, digest = $2, mac = $3 WHERE id = 1")
            .bind(cases)
            .bind(&digest)
            .bind(ledger_mac(&self.key, cases, &digest))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A stored case from its row, if the row's keyed digest holds and its state reads.
    fn stored_from_case_row(&self, row: &CaseRow) -> Result<StoredCase, StoreError> {
        let broken = || StoreError::BrokenCase(row.id.clone());
        if !row.is_sealed(&self.key) {
            return Err(broken());
        }
        let case: Case = serde_json::from_str(&row.state).map_err(|_| broken())?;
        Ok(self.stored(case, row.version))
    }

    /// The case row as the service writes it.
    fn seal(
        &self,
        stored: &StoredCase,
        head_hash: &str,
        opened_on: String,
        at: &jiff::Timestamp,
    ) -> Result<(CaseRow, Projection), StoreError> {
        let projection = Projection::of(&stored.case, &self.rules);
        let mut row = CaseRow {
            id: stored.case.id.as_str().to_owned(),
            purchaser: projection.purchaser.clone(),
            agency: projection.agency.clone(),
            channel: projection.channel.clone(),
            stage: projection.stage.clone(),
            version: stored.version,
            head_hash: head_hash.to_owned(),
            samm_due: projection.samm_due.clone(),
            search: projection.search.clone(),
            state: serde_json::to_string(&stored.case).map_err(corrupt("case state"))?,
            opened_on,
            updated_at: at.to_string(),
            row_mac: String::new(),
        };
        row.row_mac = row.mac(&self.key);
        Ok((row, projection))
    }

    /// Reads what verification needs of one case, inside a snapshot.
    async fn stored_history(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
    ) -> Result<StoredHistory, StoreError> {
        let events = event_rows(tx, id).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| CaseRow::from_row(&row))
        .transpose()?;
        let lines = sqlx::query(
            "SELECT position, item, quantity, unit_cents, mde, category, production_line \
             FROM case_lines WHERE case_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(LineRow::from_row)
        .collect::<Result<_, _>>()?;
        Ok(StoredHistory { events, row, lines })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.reader.begin().await?,
            Backend::Postgres => {
                self.reader
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    fn stored(&self, case: Case, version: i64) -> StoredCase {
        let samm_due = samm::samm_due(&case, self.rules.samm());
        StoredCase {
            case,
            version,
            samm_due,
        }
    }
}

/// The ledger's share of one case: a keyed digest of its id and chain end.
fn case_term(key: &HistoryKey, id: &CaseId, end: &ChainEnd) -> [u8; 32] {
    let events = end.events.to_string();
    key.mac_bytes(
        "ledger-case",
        &[
            id.as_str().as_bytes(),
            events.as_bytes(),
            end.hash.as_bytes(),
        ],
    )
}

fn ledger_mac(key: &HistoryKey, cases: i64, digest: &str) -> String {
    let cases = cases.to_string();
    key.mac("ledger", &[cases.as_bytes(), digest.as_bytes()])
}

fn digest_bytes(digest: &str) -> Result<[u8; 32], StoreError> {
    hex::decode(digest)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| StoreError::Corrupt("the ledger digest is not 64 hex digits".to_owned()))
}

fn xor_into(target: &mut [u8; 32], term: &[u8; 32]) {
    for (byte, other) in target.iter_mut().zip(term) {
        *byte ^= other;
    }
}

async fn open_sqlite(url: &str, options: &OpenOptions) -> Result<(AnyPool, AnyPool), StoreError> {
    if let Some(path) = sqlite_path(url)
        && !path.exists()
    {
        if !options.create {
            return Err(StoreError::NoDatabase(path));
        }
        create_private_file(&path)?;
    }
    let url = if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    };
    let writer = sqlite_pool(1).connect(&url).await?;
    SQLITE_MIGRATIONS.run(&writer).await?;
    let reader = sqlite_pool(SQLITE_READERS).connect(&url).await?;
    Ok((reader, writer))
}

fn sqlite_pool(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|connection, _| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; FULL syncs the WAL on every commit
                // so an acknowledged write survives a power cut, not only a crash.
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
                );
                sqlx::raw_sql(AssertSqlSafe(pragmas))
                    .execute(connection)
                    .await?;
                Ok(())
            })
        })
}

/// Whether the database a URL names already holds a case history (without creating a
/// SQLite file or running migrations): a new key may be made only for one that does not.
///
/// # Errors
/// [`StoreError::Unreachable`] or [`StoreError::Database`] when it cannot be reached.
pub async fn holds_history(url: &str, connect_timeout: Duration) -> Result<bool, StoreError> {
    sqlx::any::install_default_drivers();
    Backend::of_url(url)?;
    if let Some(path) = sqlite_path(url)
        && !path.exists()
    {
        return Ok(false);
    }
    let connect = <sqlx::AnyConnection as sqlx::Connection>::connect(url);
    let mut connection = tokio::time::timeout(connect_timeout, connect)
        .await
        .map_err(|_| StoreError::Unreachable(connect_timeout))??;
    let events = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(&mut connection)
        .await;
    let _ = sqlx::Connection::close(connection).await;
    Ok(events.is_ok_and(|row| row.try_get::<i64, _>("n").is_ok_and(|n| n > 0)))
}

/// Creates an empty database file readable by its owner only (SQLite gives its WAL and
/// shared-memory files the same mode).
fn create_private_file(path: &std::path::Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Database(sqlx::Error::Io(error))),
    }
}

async fn open_postgres(
    url: &str,
    connect_timeout: Duration,
) -> Result<(AnyPool, AnyPool), StoreError> {
    let connect = AnyPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(connect_timeout)
        .connect(url);
    let pool = tokio::time::timeout(connect_timeout, connect)
        .await
        .map_err(|_| StoreError::Unreachable(connect_timeout))??;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok((pool.clone(), pool))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

fn corrupt(what: &str) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
    move |error| StoreError::Corrupt(format!("{what}: {error}"))
}

/// `text` as a LIKE pattern that matches it literally anywhere.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A WHERE clause built one condition at a time, each with one text parameter: `?` in a
/// condition becomes the parameter's `$n`.
#[derive(Default)]
pub(crate) struct Conditions {
    conditions: Vec<String>,
    params: Vec<String>,
}

impl Conditions {
    /// Adds `condition` (with one `?`) and its value.
    pub(crate) fn push(&mut self, condition: &str, value: String) {
        self.params.push(value);
        self.conditions
            .push(condition.replace('?', &format!("${}", self.params.len())));
    }

    /// Adds the condition that keeps the rows of `scope` (a table with `purchaser` and
    /// `agency` columns).
    pub(crate) fn push_scope(&mut self, scope: Scope) {
        match scope {
            Scope::All => {}
            Scope::Purchaser(country) => self.push("purchaser = ?", country.iso3().to_owned()),
            Scope::Agency(agency) => self.push("agency = ?", agency.as_str().to_owned()),
        }
    }

    /// The clause (empty, or ` WHERE … AND …`) and the parameters in order.
    pub(crate) fn finish(self) -> (String, Vec<String>) {
        let clause = if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        };
        (clause, self.params)
    }
}

/// The WHERE clause and its text parameters for a list filter.
fn filter_clause(filter: &CaseFilter) -> (String, Vec<String>) {
    let mut conditions = Conditions::default();
    conditions.push_scope(filter.scope);
    if let Some(stage) = filter.stage {
        conditions.push("stage = ?", stage.as_str().to_owned());
    }
    if let Some(country) = filter.purchaser {
        conditions.push("purchaser = ?", country.iso3().to_owned());
    }
    if let Some(day) = filter.late_on {
        conditions.push("samm_due < ?", day.to_string());
    }
    if let Some(text) = &filter.text {
        conditions.push("search LIKE ? ESCAPE '\\'", like_pattern(text));
    }
    conditions.finish()
}

fn token_from_row(row: &AnyRow) -> Result<TokenInfo, StoreError> {
    let text =
        |column: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(column)?) };
    let optional = |column: &str| -> Result<Option<String>, StoreError> {
        Ok(row.try_get::<Option<String>, _>(column)?)
    };
    let timestamp = |value: String| {
        value
            .parse::<jiff::Timestamp>()
            .map_err(|error| StoreError::Corrupt(format!("token time: {error}")))
    };
    let country = optional("country")?
        .map(|code| Country::from_iso3(&code))
        .transpose()
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let agency = optional("agency")?
        .map(|code| Agency::parse(&code))
        .transpose()
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    Ok(TokenInfo {
        id: text("id")?,
        name: text("name")?,
        role: Role::parse(&text("role")?)?,
        country,
        agency,
        created_at: timestamp(text("created_at")?)?,
        expires_at: optional("expires_at")?.map(timestamp).transpose()?,
        revoked_at: optional("revoked_at")?.map(timestamp).transpose()?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, role, country, agency, created_at, expires_at, revoked_at";

#[async_trait]
impl Store for SqlStore {
    async fn open_case(&self, new: NewCase, by: &Author) -> Result<StoredCase, StoreError> {
        let case = Case::open(new.clone(), &self.rules)?;
        let body = EventBody {
            case: case.id.clone(),
            seq: 0,
            actor: by.name.clone(),
            recorded_at: by.at,
            change: Change::Opened(new),
        };
        let encoded = chain::encode_body(&body).map_err(corrupt("event body"))?;
        let hash = chain::link_hash(&self.key, GENESIS, &encoded);
        let stored = self.stored(case, 1);
        let (row, projection) =
            self.seal(&stored, &hash, stored.case.last_event.to_string(), &by.at)?;
        let id = stored.case.id.clone();
        let mut tx = self.begin_write().await?;
        let inserted = insert_case_row(&mut tx, &row).await;
        match inserted {
            Err(StoreError::Database(error)) if is_unique_violation(&error) => {
                return Err(StoreError::CaseExists(id));
            }
            other => other?,
        };
        for line in &projection.lines {
            sqlx::query(
                "INSERT INTO case_lines (case_id, position, item, quantity, unit_cents, mde, category, \
                 production_line) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id.as_str())
            .bind(line.position)
            .bind(&line.item)
            .bind(line.quantity)
            .bind(&line.unit_cents)
            .bind(line.mde)
            .bind(&line.category)
            .bind(line.production_line.clone())
            .execute(&mut *tx)
            .await?;
        }
        insert_event(&mut tx, id.as_str(), 0, by, &encoded, GENESIS, &hash).await?;
        let end = ChainEnd { events: 1, hash };
        self.advance_ledger(&mut tx, &id, None, &end).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn case(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let row =
            CaseRow::from_row(&row).map_err(|_| StoreError::BrokenCase(id.as_str().to_owned()))?;
        self.stored_from_case_row(&row).map(Some)
    }

    async fn list_cases(&self, filter: &CaseFilter) -> Result<CasePage, StoreError> {
        // Every matching row is read and its keyed digest checked before it is counted or
        // shown: a row edited behind the service's back (its purchaser, say) must not widen
        // anyone's view, nor even change a count. Broken rows are left out and logged.
        let (clause, params) = filter_clause(filter);
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases{clause} ORDER BY id");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for param in &params {
            query = query.bind(param.as_str());
        }
        let rows = query.fetch_all(&self.reader).await?;
        let mut matching = Vec::new();
        for row in &rows {
            let read = CaseRow::from_row(row).and_then(|row| self.stored_from_case_row(&row));
            match read {
                Ok(stored) if filter.scope.covers(&stored.case) => matching.push(stored),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "a broken case row is left out of a list"),
            }
        }
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let cases = matching
            .into_iter()
            .skip(filter.offset as usize)
            .take(filter.limit as usize)
            .collect();
        Ok(CasePage { cases, total })
    }

    async fn append_event(
        &self,
        id: &CaseId,
        expected_version: i64,
        event: Event,
        by: &Author,
    ) -> Result<StoredCase, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::CaseNotFound(id.clone()))?;
        let row =
            CaseRow::from_row(&row).map_err(|_| StoreError::BrokenCase(id.as_str().to_owned()))?;
        // A row that does not verify is never built upon: that would seal its tampering.
        let current = self.stored_from_case_row(&row)?;
        let conflict = |actual| StoreError::Conflict {
            case: id.clone(),
            expected: expected_version,
            actual,
        };
        if current.version != expected_version {
            return Err(conflict(current.version));
        }
        let next = current.case.apply(&event, &self.rules)?;
        let seq = current.version;
        let body = EventBody {
            case: id.clone(),
            seq,
            actor: by.name.clone(),
            recorded_at: by.at,
            change: Change::Event(event),
        };
        let encoded = chain::encode_body(&body).map_err(corrupt("event body"))?;
        let hash = chain::link_hash(&self.key, &row.head_hash, &encoded);
        let stored = self.stored(next, seq + 1);
        let (sealed, _) = self.seal(&stored, &hash, row.opened_on.clone(), &by.at)?;
        let updated = sqlx::query(
            "UPDATE cases SET version = $1, head_hash = $2, stage = $3, samm_due = $4, state = $5, \
             updated_at = $6, search = $7, row_mac = $8 WHERE id = $9 AND version = $10",
        )
        .bind(sealed.version)
        .bind(&sealed.head_hash)
        .bind(&sealed.stage)
        .bind(sealed.samm_due.clone())
        .bind(&sealed.state)
        .bind(&sealed.updated_at)
        .bind(&sealed.search)
        .bind(&sealed.row_mac)
        .bind(id.as_str())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(conflict(expected_version + 1));
        }
        match insert_event(
            &mut tx,
            id.as_str(),
            seq,
            by,
            &encoded,
            &row.head_hash,
            &hash,
        )
        .await
        {
            Err(StoreError::Database(error)) if is_unique_violation(&error) => {
                return Err(conflict(expected_version + 1));
            }
            other => other?,
        }
        let old = ChainEnd {
            events: seq,
            hash: row.head_hash.clone(),
        };
        let new = ChainEnd {
            events: seq + 1,
            hash,
        };
        self.advance_ledger(&mut tx, id, Some(&old), &new).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn events(&self, id: &CaseId) -> Result<Vec<EventRecord>, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let rows = event_rows(&mut tx, id.as_str()).await?;
        tx.commit().await?;
        if rows.is_empty() {
            return Err(StoreError::CaseNotFound(id.clone()));
        }
        decode_history(id.as_str(), &rows)
    }

    async fn events_in(
        &self,
        scope: Scope,
    ) -> Result<BTreeMap<CaseId, Vec<EventRecord>>, StoreError> {
        // The case rows' indexed columns narrow the read; the opening events decide.
        let mut conditions = Conditions::default();
        conditions.push_scope(scope);
        let (of_cases, params) = conditions.finish();
        let clause = if params.is_empty() {
            String::new()
        } else {
            format!(" WHERE case_id IN (SELECT id FROM cases{of_cases})")
        };
        let sql =
            format!("SELECT case_id, {EVENT_COLUMNS} FROM events{clause} ORDER BY case_id, seq");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for param in params {
            query = query.bind(param);
        }
        let mut tx = self.begin_snapshot().await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut by_case: BTreeMap<String, Vec<EventRow>> = BTreeMap::new();
        for row in &rows {
            let case: String = row.try_get("case_id")?;
            by_case.entry(case).or_default().push(event_row(row)?);
        }
        let mut histories = BTreeMap::new();
        for (text, rows) in by_case {
            let broken = || StoreError::BrokenCase(text.clone());
            let id = CaseId::parse(&text).map_err(|_| broken())?;
            let records = decode_history(&text, &rows)?;
            let Some(Change::Opened(opening)) = records.first().map(|record| &record.change) else {
                return Err(broken());
            };
            if scope.covers_party(opening.purchaser, opening.agency) {
                histories.insert(id, records);
            }
        }
        Ok(histories)
    }

    async fn verify(&self, id: &CaseId) -> Result<Verification, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let stored = SqlStore::stored_history(&mut tx, id.as_str()).await;
        tx.commit().await?;
        let stored = match stored {
            Ok(stored) => stored,
            Err(StoreError::Database(error))
                if !matches!(
                    error,
                    sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
                ) =>
            {
                return Ok(unreadable(id, &error.to_string()));
            }
            Err(error) => return Err(error),
        };
        if stored.row.is_none() && stored.events.is_empty() {
            return Err(StoreError::CaseNotFound(id.clone()));
        }
        Ok(chain::verify_case(id, &stored, &self.rules, &self.key).0)
    }

    async fn verify_all(&self) -> Result<DatabaseVerification, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let mut report = DatabaseVerification::default();
        let ids =
            sqlx::query("SELECT id FROM cases UNION SELECT case_id AS id FROM events ORDER BY id")
                .fetch_all(&mut *tx)
                .await;
        let ids: Vec<String> = match ids {
            Ok(rows) => rows
                .iter()
                .filter_map(|row| row.try_get("id").ok())
                .collect(),
            Err(error) => {
                report.problems.push(format!(
                    "the cases or events table cannot be read (dropped?): {error}"
                ));
                Vec::new()
            }
        };
        let mut folded = [0u8; 32];
        let mut counted = 0_i64;
        for text in &ids {
            let Ok(id) = CaseId::parse(text) else {
                report
                    .problems
                    .push(format!("a stored case id '{text}' is not a case id"));
                continue;
            };
            match SqlStore::stored_history(&mut tx, text).await {
                Ok(stored) => {
                    let (verification, end) =
                        chain::verify_case(&id, &stored, &self.rules, &self.key);
                    if end.events > 0 {
                        xor_into(&mut folded, &case_term(&self.key, &id, &end));
                        counted += 1;
                    }
                    report.cases.push(verification);
                }
                Err(error) => report.cases.push(unreadable(&id, &error.to_string())),
            }
        }
        let ledger = sqlx::query("SELECT cases, digest, mac FROM ledger WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await;
        tx.commit().await?;
        let digest = hex::encode(folded);
        report.head = LedgerHead {
            cases: counted,
            digest: digest.clone(),
        };
        match ledger {
            Err(error) => report.problems.push(format!(
                "the ledger table cannot be read (dropped?): {error}"
            )),
            Ok(None) if counted > 0 || !ids.is_empty() => report
                .problems
                .push("the ledger record is missing although the database holds cases".to_owned()),
            Ok(None) => {}
            Ok(Some(row)) => {
                let stored_cases: i64 = row.try_get("cases")?;
                let stored_digest: String = row.try_get("digest")?;
                let mac: String = row.try_get("mac")?;
                if !same_digest(&ledger_mac(&self.key, stored_cases, &stored_digest), &mac) {
                    report.problems.push(
                        "the ledger record does not verify under this key (edited, or another key)"
                            .to_owned(),
                    );
                } else if stored_cases != counted || stored_digest != digest {
                    report.problems.push(format!(
                        "the ledger records {stored_cases} case(s) but {counted} case history(ies) remain, or their ends differ: a case was deleted, rolled back or emptied"
                    ));
                }
            }
        }
        report.valid = report.problems.is_empty() && report.cases.iter().all(|case| case.valid);
        Ok(report)
    }

    async fn create_token(
        &self,
        new: NewToken,
        at: jiff::Timestamp,
    ) -> Result<IssuedToken, StoreError> {
        let (secret, id) = token::generate();
        let info = new_token_info(&new, id, at);
        let inserted = sqlx::query(
            "INSERT INTO tokens (id, name, secret_hash, role, country, agency, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&info.id)
        .bind(&info.name)
        .bind(token::hash_secret(&secret))
        .bind(info.role.as_str())
        .bind(info.country.map(|country| country.iso3().to_owned()))
        .bind(info.agency.map(|agency| agency.as_str().to_owned()))
        .bind(at.to_string())
        .bind(info.expires_at.map(|at| at.to_string()))
        .execute(&self.writer)
        .await;
        match inserted {
            Err(error) if is_unique_violation(&error) => Err(StoreError::TokenNameTaken(info.name)),
            Err(error) => Err(error.into()),
            Ok(_) => Ok(IssuedToken {
                token: secret,
                info,
            }),
        }
    }

    async fn replace_token(
        &self,
        new: NewToken,
        at: jiff::Timestamp,
    ) -> Result<IssuedToken, StoreError> {
        let Some(name) = new.name().map(str::to_owned) else {
            return self.create_token(new, at).await;
        };
        let mut tx = self.begin_write().await?;
        let existing: Option<String> = sqlx::query("SELECT id FROM tokens WHERE name = $1")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get("id"))
            .transpose()?;
        let Some(id) = existing else {
            tx.commit().await?;
            return self.create_token(new, at).await;
        };
        let (secret, _) = token::generate();
        let info = new_token_info(&new, id, at);
        sqlx::query(
            "UPDATE tokens SET secret_hash = $1, role = $2, country = $3, agency = $4, \
             created_at = $5, expires_at = $6, revoked_at = NULL WHERE id = $7",
        )
        .bind(token::hash_secret(&secret))
        .bind(info.role.as_str())
        .bind(info.country.map(|country| country.iso3().to_owned()))
        .bind(info.agency.map(|agency| agency.as_str().to_owned()))
        .bind(at.to_string())
        .bind(info.expires_at.map(|at| at.to_string()))
        .bind(&info.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            token: secret,
            info,
        })
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(
        &self,
        id_or_name: &str,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let matching = sqlx::query("SELECT id, name FROM tokens WHERE id = $1 OR name = $1")
            .bind(id_or_name)
            .fetch_all(&mut *tx)
            .await?;
        if matching.len() > 1 {
            return Err(StoreError::AmbiguousToken(id_or_name.to_owned()));
        }
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL",
        )
        .bind(at.to_string())
        .bind(id_or_name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(revoked.rows_affected() > 0)
    }

    async fn authenticate(
        &self,
        secret: &str,
        at: jiff::Timestamp,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token::hash_secret(secret))
            .fetch_optional(&self.reader)
            .await?;
        let token = row.as_ref().map(token_from_row).transpose()?;
        Ok(token.filter(|token| token.expires_at.is_none_or(|expiry| at < expiry)))
    }

    async fn append_forecast_snapshots(
        &self,
        snapshots: &[ForecastSnapshot],
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let appended = snapshots::append(&mut tx, snapshots).await;
        match appended {
            // Another server process kept a forecast of the same case at the same moment:
            // its snapshot stands, and the next recompute compares against it.
            Err(StoreError::Database(error)) if is_unique_violation(&error) => Ok(0),
            Err(error) => Err(error),
            Ok(count) => {
                tx.commit().await?;
                Ok(count)
            }
        }
    }

    async fn forecast_snapshots(
        &self,
        scope: Scope,
        case: Option<&CaseId>,
    ) -> Result<Vec<ForecastSnapshot>, StoreError> {
        snapshots::read(&self.reader, scope, case).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}

fn new_token_info(new: &NewToken, id: String, at: jiff::Timestamp) -> TokenInfo {
    let name = new
        .name()
        .map_or_else(|| format!("{}-{id}", new.role()), str::to_owned);
    TokenInfo {
        id,
        name,
        role: new.role(),
        country: new.country(),
        agency: new.agency(),
        created_at: at,
        expires_at: new.expires_at(),
        revoked_at: None,
    }
}

/// A case whose rows cannot even be read.
fn unreadable(id: &CaseId, error: &str) -> Verification {
    Verification {
        case: id.clone(),
        events: 0,
        valid: false,
        broken: Some(chain::BrokenLink {
            seq: 0,
            reason: format!("its rows cannot be read: {error}"),
        }),
    }
}

async fn insert_case_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    row: &CaseRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO cases (id, purchaser, agency, channel, stage, version, head_hash, samm_due, \
         search, state, opened_on, updated_at, row_mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&row.id)
    .bind(&row.purchaser)
    .bind(&row.agency)
    .bind(&row.channel)
    .bind(&row.stage)
    .bind(row.version)
    .bind(&row.head_hash)
    .bind(row.samm_due.clone())
    .bind(&row.search)
    .bind(&row.state)
    .bind(&row.opened_on)
    .bind(&row.updated_at)
    .bind(&row.row_mac)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    case: &str,
    seq: i64,
    by: &Author,
    body: &str,
    prev_hash: &str,
    hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (case_id, seq, recorded_at, actor, body, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(case)
    .bind(seq)
    .bind(by.at.to_string())
    .bind(&by.name)
    .bind(body)
    .bind(prev_hash)
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The columns of an event row, as [`event_row`] reads them.
const EVENT_COLUMNS: &str = "seq, actor, recorded_at, body, prev_hash, hash";

async fn event_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
) -> Result<Vec<EventRow>, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE case_id = $1 ORDER BY seq");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(event_row).collect()
}

fn event_row(row: &AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        seq: row.try_get("seq")?,
        actor: row.try_get("actor")?,
        recorded_at: row.try_get("recorded_at")?,
        body: row.try_get("body")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// One case's event rows as records: each hashed body must read and name the case and the
/// position it is stored under (a body copied from another case or place is broken).
fn decode_history(id: &str, rows: &[EventRow]) -> Result<Vec<EventRecord>, StoreError> {
    rows.iter()
        .map(|row| {
            chain::decode_row(row)
                .ok()
                .filter(|record| record.case.as_str() == id && record.seq == row.seq)
                .ok_or_else(|| StoreError::BrokenCase(id.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("PAC_3%"), "%pac\\_3\\%%");
    }

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            Backend::of_url("sqlite://expedite.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of_url("postgres://postgres@127.0.0.1/x").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::of_url("mysql://x").is_err());
    }
}
