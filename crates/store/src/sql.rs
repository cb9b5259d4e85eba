//! The SQL implementation of [`Store`], for SQLite and PostgreSQL alike.
//!
//! Both backends run the same queries through sqlx's `Any` driver (`$N` placeholders work
//! in both; dates and timestamps are ISO text). What differs lives in [`Backend`]: the
//! migrations, the connection setup and how a write transaction begins. SQLite gets one
//! writer connection (`BEGIN IMMEDIATE`, so writers queue instead of failing on a busy
//! database) and a pool of readers; PostgreSQL one pool for both.

use std::time::Duration;

use async_trait::async_trait;
use expedite_core::machine::Case;
use expedite_core::{Agency, CaseId, Country, Event, NewCase, RuleBook};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::chain::{self, ChainHead, EventBody, EventRow, GENESIS, Verification};
use crate::model::{Author, CaseFilter, CasePage, Change, EventRecord, Scope, StoredCase};
use crate::token::{self, IssuedToken, NewToken, Role, TokenInfo};
use crate::{Store, StoreError, samm};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite readers: enough to keep both cores busy while the writer waits on the disk.
const SQLITE_READERS: u32 = 8;
/// PostgreSQL connections per server process.
const POSTGRES_CONNECTIONS: u32 = 16;
/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

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
            Err(StoreError::UnsupportedUrl(url.to_owned()))
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
}

impl SqlStore {
    /// Connects to the database a URL names, creating a SQLite file if needed, and runs the
    /// backend's migrations.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`], [`StoreError::Database`], [`StoreError::Migration`],
    /// or [`StoreError::Corrupt`] if the compiled-in rules do not load.
    pub async fn open(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let rules = RuleBook::builtin().map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let (reader, writer) = match backend {
            Backend::Sqlite => open_sqlite(url).await?,
            Backend::Postgres => open_postgres(url).await?,
        };
        Ok(SqlStore {
            backend,
            reader,
            writer,
            rules,
        })
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

    fn stored_from_row(&self, row: &AnyRow) -> Result<StoredCase, StoreError> {
        let state: String = row.try_get("state")?;
        let version: i64 = row.try_get("version")?;
        let case: Case = serde_json::from_str(&state)
            .map_err(|error| StoreError::Corrupt(format!("case state does not read: {error}")))?;
        Ok(self.stored(case, version))
    }
}

async fn open_sqlite(url: &str) -> Result<(AnyPool, AnyPool), StoreError> {
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

async fn open_postgres(url: &str) -> Result<(AnyPool, AnyPool), StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await?;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok((pool.clone(), pool))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

fn corrupt(what: &str) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
    move |error| StoreError::Corrupt(format!("{what}: {error}"))
}

/// Lower-case text the `text` filter searches: id, purchaser code and name, agency, items.
fn search_text(case: &Case) -> String {
    let mut parts = vec![
        case.id.as_str().to_owned(),
        case.purchaser.iso3().to_owned(),
        case.purchaser.name().to_owned(),
        case.agency.as_str().to_owned(),
    ];
    for line in &case.lines {
        parts.push(line.item.clone());
        parts.extend(line.production_line.clone());
    }
    parts.join(" | ").to_lowercase()
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

/// The WHERE clause and its text parameters for a list filter.
fn filter_clause(filter: &CaseFilter) -> (String, Vec<String>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut push = |condition: &str, value: String| {
        params.push(value);
        conditions.push(condition.replace('?', &format!("${}", params.len())));
    };
    match filter.scope {
        Scope::All => {}
        Scope::Purchaser(country) => push("purchaser = ?", country.iso3().to_owned()),
        Scope::Agency(agency) => push("agency = ?", agency.as_str().to_owned()),
    }
    if let Some(stage) = filter.stage {
        push("stage = ?", stage.as_str().to_owned());
    }
    if let Some(country) = filter.purchaser {
        push("purchaser = ?", country.iso3().to_owned());
    }
    if let Some(day) = filter.late_on {
        push("samm_due < ?", day.to_string());
    }
    if let Some(text) = &filter.text {
        push("search LIKE ? ESCAPE '\\'", like_pattern(text));
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    (clause, params)
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
        revoked_at: optional("revoked_at")?.map(timestamp).transpose()?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, role, country, agency, created_at, revoked_at";

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
        let hash = chain::link_hash(GENESIS, &encoded);
        let state = serde_json::to_string(&case).map_err(corrupt("case state"))?;
        let stored = self.stored(case, 1);
        let case = &stored.case;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO cases (id, purchaser, agency, channel, stage, version, head_hash, samm_due, \
             search, state, opened_on, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11)",
        )
        .bind(case.id.as_str())
        .bind(case.purchaser.iso3())
        .bind(case.agency.as_str())
        .bind(case.channel.as_str())
        .bind(case.stage.as_str())
        .bind(&hash)
        .bind(stored.samm_due.map(|day| day.to_string()))
        .bind(search_text(case))
        .bind(&state)
        .bind(case.last_event.to_string())
        .bind(by.at.to_string())
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(error) if is_unique_violation(&error) => {
                return Err(StoreError::CaseExists(case.id.clone()));
            }
            other => other?,
        };
        for (position, line) in case.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO case_lines (case_id, position, item, quantity, unit_cents, mde, category, \
                 production_line) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(case.id.as_str())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&line.item)
            .bind(i64::from(line.quantity))
            .bind(line.unit_usd.cents().to_string())
            .bind(i64::from(line.mde))
            .bind(serde_json::to_value(line.category).map_err(corrupt("category"))?.as_str().unwrap_or("article"))
            .bind(line.production_line.clone())
            .execute(&mut *tx)
            .await?;
        }
        insert_event(&mut tx, case.id.as_str(), 0, by, &encoded, GENESIS, &hash).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn case(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        let row = sqlx::query("SELECT state, version FROM cases WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.map(|row| self.stored_from_row(&row)).transpose()
    }

    async fn list_cases(&self, filter: &CaseFilter) -> Result<CasePage, StoreError> {
        let (clause, params) = filter_clause(filter);
        let page_sql = format!(
            "SELECT state, version FROM cases{clause} ORDER BY id LIMIT {} OFFSET {}",
            filter.limit, filter.offset
        );
        let count_sql = format!("SELECT COUNT(*) AS total FROM cases{clause}");
        let mut tx = self.begin_snapshot().await?;
        let mut page = sqlx::query(AssertSqlSafe(page_sql));
        let mut count = sqlx::query(AssertSqlSafe(count_sql));
        for param in &params {
            page = page.bind(param.as_str());
            count = count.bind(param.as_str());
        }
        let rows = page.fetch_all(&mut *tx).await?;
        let total: i64 = count.fetch_one(&mut *tx).await?.try_get("total")?;
        tx.commit().await?;
        let cases = rows
            .iter()
            .map(|row| self.stored_from_row(row))
            .collect::<Result<_, _>>()?;
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
        let row = sqlx::query("SELECT state, version, head_hash FROM cases WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::CaseNotFound(id.clone()))?;
        let current = self.stored_from_row(&row)?;
        let head_hash: String = row.try_get("head_hash")?;
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
        let hash = chain::link_hash(&head_hash, &encoded);
        let stored = self.stored(next, seq + 1);
        let state = serde_json::to_string(&stored.case).map_err(corrupt("case state"))?;
        let updated = sqlx::query(
            "UPDATE cases SET version = $1, head_hash = $2, stage = $3, samm_due = $4, state = $5, \
             updated_at = $6 WHERE id = $7 AND version = $8",
        )
        .bind(seq + 1)
        .bind(&hash)
        .bind(stored.case.stage.as_str())
        .bind(stored.samm_due.map(|day| day.to_string()))
        .bind(&state)
        .bind(by.at.to_string())
        .bind(id.as_str())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(conflict(expected_version + 1));
        }
        match insert_event(&mut tx, id.as_str(), seq, by, &encoded, &head_hash, &hash).await {
            Err(StoreError::Database(error)) if is_unique_violation(&error) => {
                return Err(conflict(expected_version + 1));
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn events(&self, id: &CaseId) -> Result<Vec<EventRecord>, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let rows = event_rows(&mut tx, id).await?;
        if rows.is_empty() && case_head(&mut tx, id).await?.is_none() {
            return Err(StoreError::CaseNotFound(id.clone()));
        }
        tx.commit().await?;
        rows.iter()
            .map(|row| chain::decode_row(row).map_err(corrupt("event body")))
            .collect()
    }

    async fn verify(&self, id: &CaseId) -> Result<Verification, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let head = case_head(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::CaseNotFound(id.clone()))?;
        let rows = event_rows(&mut tx, id).await?;
        tx.commit().await?;
        Ok(chain::verify_chain(id, &rows, &head, &self.rules))
    }

    async fn create_token(
        &self,
        new: NewToken,
        at: jiff::Timestamp,
    ) -> Result<IssuedToken, StoreError> {
        let (secret, id) = token::generate();
        let name = new
            .name()
            .map_or_else(|| format!("{}-{id}", new.role()), str::to_owned);
        let info = TokenInfo {
            id,
            name,
            role: new.role(),
            country: new.country(),
            agency: new.agency(),
            created_at: at,
            revoked_at: None,
        };
        let inserted = sqlx::query(
            "INSERT INTO tokens (id, name, secret_hash, role, country, agency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&info.id)
        .bind(&info.name)
        .bind(token::hash_secret(&secret))
        .bind(info.role.as_str())
        .bind(info.country.map(|country| country.iso3().to_owned()))
        .bind(info.agency.map(|agency| agency.as_str().to_owned()))
        .bind(at.to_string())
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
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL",
        )
        .bind(at.to_string())
        .bind(id_or_name)
        .execute(&self.writer)
        .await?;
        Ok(revoked.rows_affected() > 0)
    }

    async fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token::hash_secret(secret))
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
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

async fn event_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &CaseId,
) -> Result<Vec<EventRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, actor, recorded_at, body, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq",
    )
    .bind(id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EventRow {
                seq: row.try_get("seq")?,
                actor: row.try_get("actor")?,
                recorded_at: row.try_get("recorded_at")?,
                body: row.try_get("body")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            })
        })
        .collect()
}

async fn case_head(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &CaseId,
) -> Result<Option<ChainHead>, StoreError> {
    let row = sqlx::query("SELECT version, head_hash, state FROM cases WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| {
        Ok(ChainHead {
            version: row.try_get("version")?,
            head_hash: row.try_get("head_hash")?,
            state: row.try_get("state")?,
        })
    })
    .transpose()
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
