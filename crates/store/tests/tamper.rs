//! The tamper suite: someone with write access to the database, but not the history key,
//! edits it behind the service's back. Each edit must be found by `verify` (the case's and
//! the whole database's), and none may widen what a purchaser sees or counts.
//! Runs on SQLite, and on PostgreSQL when `EXPEDITE_TEST_PG_URL` is set.

mod support;

use std::collections::BTreeSet;

use expedite_core::{CaseId, Country, Event, EventKind, Stage};
use expedite_store::chain::canonical_json;
use expedite_store::{CaseFilter, Scope, SqlStore, Store, StoreError};
use sha2::{Digest, Sha256};
use support::{TestDb, author, for_each_backend, new_case};

fn id(text: &str) -> CaseId {
    CaseId::parse(text).expect("test case id")
}

fn advance(date: &str, to: Stage) -> Event {
    Event {
        date: date.parse().expect("date"),
        kind: EventKind::Advance { to },
    }
}

/// Poland's Patriot (Army), Estonia's HIMARS (Army, delivering) and Norway's AMRAAM (Air
/// Force), each a few transitions in.
async fn three_cases(store: &SqlStore) {
    let by = author("usasac-army");
    for (case, purchaser, agency) in [
        ("PL-B-ZAB", "POL", "army"),
        ("EE-B-HIM", "EST", "army"),
        ("NO-D-AMR", "NOR", "air_force"),
    ] {
        store
            .open_case(new_case(case, purchaser, agency), &by)
            .await
            .expect("open");
        store
            .append_event(
                &id(case),
                1,
                advance("2025-01-06", Stage::LorActionable),
                &by,
            )
            .await
            .expect("actionable");
        store
            .append_event(
                &id(case),
                2,
                advance("2025-01-20", Stage::LoaDevelopment),
                &by,
            )
            .await
            .expect("development");
    }
}

/// What Poland's purchaser sees: the ids listed and the count.
async fn polands_view(store: &SqlStore) -> (BTreeSet<String>, i64) {
    let poland = Country::from_iso3("POL").expect("POL");
    let page = store
        .list_cases(&CaseFilter::all_in(Scope::Purchaser(poland)))
        .await
        .expect("list");
    let ids = page
        .cases
        .iter()
        .map(|stored| stored.case.id.as_str().to_owned())
        .collect();
    (ids, page.total)
}

/// Sets up the three cases, applies `edit`, and checks that the whole-database verify
/// fails, that Poland's view is no wider than before, and returns the database report.
async fn tampered(db: &TestDb, edit: &str) -> expedite_store::DatabaseVerification {
    let store = &db.store;
    three_cases(store).await;
    let before = store.verify_all().await.expect("verify all");
    assert!(before.valid, "untouched database: {before:?}");
    let (seen_before, counted_before) = polands_view(store).await;
    assert_eq!(seen_before, BTreeSet::from(["PL-B-ZAB".to_owned()]));
    db.tamper(edit).await;
    let (seen_after, counted_after) = polands_view(store).await;
    assert!(
        seen_after.is_subset(&seen_before) && counted_after <= counted_before,
        "after `{edit}` Poland sees {seen_after:?} ({counted_after}), before {seen_before:?}"
    );
    let after = store
        .verify_all()
        .await
        .expect("verify all never fails on bad rows");
    assert!(!after.valid, "`{edit}` went unnoticed: {after:?}");
    after
}

fn broken_reason(report: &expedite_store::DatabaseVerification, case: &str) -> String {
    let verification = report
        .cases
        .iter()
        .find(|verification| verification.case.as_str() == case)
        .unwrap_or_else(|| panic!("{case} is in the report: {report:?}"));
    assert!(!verification.valid, "{case} verifies: {report:?}");
    verification
        .broken
        .as_ref()
        .map(|link| link.reason.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_event_edited_with_its_sha256_recomputed_is_detected_without_the_key() {
    for_each_backend(|db| async move {
        three_cases(&db.store).await;
        // Change Estonia's actionable date and recompute the old unkeyed link hash, as a
        // database writer who read the chain's documentation would.
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .expect("connect");
        let row = sqlx::query("SELECT body, prev_hash FROM events WHERE case_id = 'EE-B-HIM' AND seq = 1")
            .fetch_one(&mut connection)
            .await
            .expect("event");
        let body: String = sqlx::Row::get(&row, "body");
        let prev: String = sqlx::Row::get(&row, "prev_hash");
        let edited: serde_json::Value =
            serde_json::from_str(&body.replace("2025-01-06", "2025-01-05")).expect("json");
        let edited = canonical_json(&edited);
        let mut hasher = Sha256::new();
        hasher.update(prev.as_bytes());
        hasher.update(b"\n");
        hasher.update(edited.as_bytes());
        let forged = hex::encode(hasher.finalize());
        db.tamper(&format!(
            "UPDATE events SET body = '{edited}', hash = '{forged}' WHERE case_id = 'EE-B-HIM' AND seq = 1; \
             UPDATE events SET prev_hash = '{forged}' WHERE case_id = 'EE-B-HIM' AND seq = 2;"
        ))
        .await;
        let verification = db.store.verify(&id("EE-B-HIM")).await.expect("verify");
        assert_eq!(verification.broken.map(|link| link.seq), Some(1));
        let report = db.store.verify_all().await.expect("verify all");
        assert!(!report.valid);
        assert!(report.cases.iter().filter(|case| !case.valid).count() == 1, "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn a_purchaser_column_moved_to_poland_is_detected_and_poland_does_not_see_it() {
    for_each_backend(|db| async move {
        let report = tampered(
            &db,
            "UPDATE cases SET purchaser = 'POL' WHERE id = 'EE-B-HIM'",
        )
        .await;
        assert!(
            broken_reason(&report, "EE-B-HIM").contains("purchaser"),
            "{report:?}"
        );
        // Neither is it served by id: the row fails its keyed check.
        assert!(matches!(
            db.store.case(&id("EE-B-HIM")).await,
            Err(StoreError::BrokenCase(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn a_state_rewritten_to_poland_is_detected_and_poland_does_not_see_it() {
    for_each_backend(|db| async move {
        let report = tampered(
            &db,
            "UPDATE cases SET purchaser = 'POL', state = REPLACE(state, '\"EST\"', '\"POL\"') WHERE id = 'EE-B-HIM'",
        )
        .await;
        broken_reason(&report, "EE-B-HIM");
    })
    .await;
}

#[tokio::test]
async fn a_changed_stage_samm_due_or_case_line_is_detected() {
    for (edit, case, column) in [
        (
            "UPDATE cases SET stage = 'offered' WHERE id = 'NO-D-AMR'",
            "NO-D-AMR",
            "stage",
        ),
        (
            "UPDATE cases SET samm_due = '2099-01-01' WHERE id = 'PL-B-ZAB'",
            "PL-B-ZAB",
            "samm_due",
        ),
        (
            "UPDATE case_lines SET quantity = 5 WHERE case_id = 'EE-B-HIM' AND position = 0",
            "EE-B-HIM",
            "line",
        ),
    ] {
        for_each_backend(|db| async move {
            let report = tampered(&db, edit).await;
            let reason = broken_reason(&report, case);
            assert!(reason.contains(column), "{edit}: {reason}");
        })
        .await;
    }
}

#[tokio::test]
async fn a_case_deleted_with_all_its_rows_is_detected_by_the_ledger() {
    for_each_backend(|db| async move {
        let report = tampered(
            &db,
            "DELETE FROM events WHERE case_id = 'NO-D-AMR'; DELETE FROM case_lines WHERE case_id = 'NO-D-AMR'; \
             DELETE FROM cases WHERE id = 'NO-D-AMR';",
        )
        .await;
        assert!(report.cases.iter().all(|case| case.valid), "the others still verify");
        assert!(
            report.problems.iter().any(|problem| problem.contains("ledger")),
            "{report:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn truncated_tables_are_detected() {
    for_each_backend(|db| async move {
        // TRUNCATE passes PostgreSQL's row triggers; SQLite has none, so its writer drops
        // the triggers and deletes every row.
        let (events, everything) = if db.is_sqlite() {
            (
                "DELETE FROM events",
                "DELETE FROM events; DELETE FROM case_lines; DELETE FROM cases;",
            )
        } else {
            ("TRUNCATE events", "TRUNCATE events, case_lines, cases")
        };
        let report = tampered(&db, events).await;
        assert_eq!(report.cases.iter().filter(|case| !case.valid).count(), 3);
        drop(report);
        let report = db.store.verify_all().await.expect("verify");
        assert!(!report.valid);
        db.tamper(everything).await;
        let report = db.store.verify_all().await.expect("verify");
        assert!(
            !report.valid
                && report
                    .problems
                    .iter()
                    .any(|problem| problem.contains("ledger")),
            "{report:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn dropped_tables_are_reported_not_a_failure() {
    for table in ["events", "ledger", "case_lines"] {
        for_each_backend(|db| async move {
            let report = tampered(&db, &format!("DROP TABLE {table}")).await;
            assert!(
                !report.problems.is_empty() || report.cases.iter().any(|case| !case.valid),
                "{table}: {report:?}"
            );
        })
        .await;
    }
}

#[tokio::test]
async fn one_unreadable_case_row_leaves_the_others_listed_and_verified() {
    for_each_backend(|db| async move {
        let report = tampered(&db, "UPDATE cases SET state = '{' WHERE id = 'EE-B-HIM'").await;
        broken_reason(&report, "EE-B-HIM");
        assert_eq!(report.cases.iter().filter(|case| case.valid).count(), 2);
        let everyone = db
            .store
            .list_cases(&CaseFilter::all_in(Scope::All))
            .await
            .expect("the list still answers");
        let ids: Vec<&str> = everyone
            .cases
            .iter()
            .map(|stored| stored.case.id.as_str())
            .collect();
        assert_eq!((ids, everyone.total), (vec!["NO-D-AMR", "PL-B-ZAB"], 2));
        assert!(db.store.verify(&id("EE-B-HIM")).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn a_database_opened_with_another_key_verifies_nothing_and_refuses_writes() {
    for_each_backend(|db| async move {
        three_cases(&db.store).await;
        let stranger = expedite_store::OpenOptions::new(expedite_store::HistoryKey::generate());
        let other = SqlStore::open(&db.url, &stranger).await.expect("open");
        let report = other.verify_all().await.expect("verify");
        assert!(!report.valid && report.cases.iter().all(|case| !case.valid));
        let write = other
            .append_event(
                &id("PL-B-ZAB"),
                3,
                advance("2025-03-01", Stage::CongressionalReview),
                &author("x"),
            )
            .await;
        assert!(matches!(write, Err(StoreError::BrokenCase(_))), "{write:?}");
        other.close().await;
        // The right key still verifies everything.
        let reopened = SqlStore::open(&db.url, &db.options).await.expect("open");
        assert!(reopened.verify_all().await.expect("verify").valid);
        reopened.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_one_query_history_read_gives_each_case_in_the_scope_what_events_gives() {
    for_each_backend(|db| async move {
        three_cases(&db.store).await;
        let all = db.store.events_in(Scope::All).await.expect("events in");
        assert_eq!(
            all.keys().map(CaseId::as_str).collect::<Vec<_>>(),
            ["EE-B-HIM", "NO-D-AMR", "PL-B-ZAB"]
        );
        for (case, history) in &all {
            assert_eq!(
                history,
                &db.store.events(case).await.expect("events"),
                "{case}"
            );
        }
        let estonia = Scope::Purchaser(Country::from_iso3("EST").expect("EST"));
        let own = db.store.events_in(estonia).await.expect("events in");
        assert_eq!(
            own.keys().map(CaseId::as_str).collect::<Vec<_>>(),
            ["EE-B-HIM"]
        );
        let air_force = Scope::Agency(expedite_core::Agency::AirForce);
        let own = db.store.events_in(air_force).await.expect("events in");
        assert_eq!(
            own.keys().map(CaseId::as_str).collect::<Vec<_>>(),
            ["NO-D-AMR"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_purchaser_column_moved_to_poland_does_not_bring_the_case_history_into_polands_read() {
    for_each_backend(|db| async move {
        three_cases(&db.store).await;
        db.tamper("UPDATE cases SET purchaser = 'POL' WHERE id = 'EE-B-HIM'")
            .await;
        let poland = Scope::Purchaser(Country::from_iso3("POL").expect("POL"));
        let seen = db.store.events_in(poland).await.expect("events in");
        assert_eq!(
            seen.keys().map(CaseId::as_str).collect::<Vec<_>>(),
            ["PL-B-ZAB"]
        );
    })
    .await;
}

#[tokio::test]
async fn an_event_moved_to_another_case_breaks_that_case_in_both_history_reads() {
    for_each_backend(|db| async move {
        three_cases(&db.store).await;
        db.tamper("UPDATE events SET case_id = 'NO-D-AMR', seq = 3 WHERE case_id = 'EE-B-HIM' AND seq = 2")
            .await;
        assert!(matches!(
            db.store.events(&id("NO-D-AMR")).await,
            Err(StoreError::BrokenCase(case)) if case == "NO-D-AMR"
        ));
        assert!(matches!(
            db.store.events_in(Scope::All).await,
            Err(StoreError::BrokenCase(case)) if case == "NO-D-AMR"
        ));
    })
    .await;
}
