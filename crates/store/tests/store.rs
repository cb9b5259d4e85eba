//! The store's story, told once and run against every backend: SQLite always, PostgreSQL
//! when `EXPEDITE_TEST_PG_URL` is set (with `CI=true`, a missing or unreachable PostgreSQL
//! fails the run instead of skipping it). Each test gets a fresh database.

mod support;

use expedite_core::machine::Rule;
use expedite_core::{Agency, CaseId, Country, Date, Event, EventKind, Stage};
use expedite_store::{CaseFilter, Change, NewToken, Role, Scope, Store, StoreError};
use support::{author, for_each_backend, new_case};

fn advance(date: &str, to: Stage) -> Event {
    Event {
        date: date.parse().expect("test date"),
        kind: EventKind::Advance { to },
    }
}

fn deliver(date: &str, line: usize, quantity: u32) -> Event {
    Event {
        date: date.parse().expect("test date"),
        kind: EventKind::Deliver { line, quantity },
    }
}

fn id(text: &str) -> CaseId {
    CaseId::parse(text).expect("test case id")
}

#[tokio::test]
async fn a_case_is_opened_advanced_and_its_history_verifies() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let opened = store
            .open_case(new_case("PL-B-ZAB", "POL", "army"), &author("alice"))
            .await
            .expect("open");
        assert_eq!((opened.version, opened.case.stage), (1, Stage::LorReceived));
        let moved = store
            .append_event(
                &opened.case.id,
                1,
                advance("2025-01-10", Stage::LorActionable),
                &author("bob"),
            )
            .await
            .expect("advance");
        assert_eq!((moved.version, moved.case.stage), (2, Stage::LorActionable));
        let reread = store
            .case(&opened.case.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(reread, moved);
        let events = store.events(&opened.case.id).await.expect("events");
        assert_eq!(events.len(), 2);
        assert!(matches!(events[0].change, Change::Opened(_)));
        assert_eq!(
            (events[0].actor.as_str(), events[1].actor.as_str()),
            ("alice", "bob")
        );
        assert_eq!(events[1].prev_hash, events[0].hash);
        let verification = store.verify(&opened.case.id).await.expect("verify");
        assert!(verification.valid, "{verification:?}");
        assert_eq!(verification.events, 2);
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_never_a_lost_update() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let case = store
            .open_case(new_case("EE-B-HIM", "EST", "army"), &author("a"))
            .await
            .expect("open")
            .case;
        store
            .append_event(
                &case.id,
                1,
                advance("2025-01-10", Stage::LorActionable),
                &author("a"),
            )
            .await
            .expect("first");
        let stale = store
            .append_event(
                &case.id,
                1,
                advance("2025-01-11", Stage::Cancelled),
                &author("b"),
            )
            .await;
        assert!(
            matches!(
                stale,
                Err(StoreError::Conflict {
                    expected: 1,
                    actual: 2,
                    ..
                })
            ),
            "{stale:?}"
        );
        let current = store.case(&case.id).await.expect("read").expect("exists");
        assert_eq!(
            (current.version, current.case.stage),
            (2, Stage::LorActionable)
        );
        assert!(store.verify(&case.id).await.expect("verify").valid);
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_on_one_version_see_exactly_one_success() {
    for_each_backend(|db| async move {
        let store = std::sync::Arc::new(db.store.clone());
        let case = store
            .open_case(new_case("PL-B-ZAC", "POL", "army"), &author("a"))
            .await
            .expect("open")
            .case;
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..16 {
            let store = store.clone();
            let case_id = case.id.clone();
            writers.spawn(async move {
                let event = advance("2025-01-10", Stage::LorActionable);
                store
                    .append_event(&case_id, 1, event, &author(&format!("writer-{writer}")))
                    .await
            });
        }
        let outcomes = writers.join_all().await;
        let successes = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Err(StoreError::Conflict { .. })))
            .count();
        assert_eq!((successes, conflicts), (1, 15), "{outcomes:?}");
        let verification = store.verify(&case.id).await.expect("verify");
        assert!(
            verification.valid && verification.events == 2,
            "{verification:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_transition_the_core_rejects_writes_nothing() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let case = store.open_case(new_case("PL-B-ZAD", "POL", "army"), &author("a")).await.expect("open").case;
        let skip = store.append_event(&case.id, 1, advance("2025-01-10", Stage::Offered), &author("a")).await;
        match skip {
            Err(StoreError::Transition(error)) => {
                assert_eq!(error.stage, Stage::LorReceived);
                assert_eq!(error.rule, Rule::NotNextStage { expected: Stage::LorActionable });
            }
            other => panic!("expected a transition error, got {other:?}"),
        }
        let early = store.append_event(&case.id, 1, deliver("2025-01-10", 0, 1), &author("a")).await;
        assert!(matches!(early, Err(StoreError::Transition(_))), "{early:?}");
        let backwards = store.append_event(&case.id, 1, advance("2024-12-31", Stage::LorActionable), &author("a")).await;
        assert!(matches!(backwards, Err(StoreError::Transition(ref e)) if matches!(e.rule, Rule::DateBeforeLastEvent { .. })));
        assert_eq!(store.events(&case.id).await.expect("events").len(), 1);
        assert_eq!(store.case(&case.id).await.expect("read").expect("exists").version, 1);
    })
    .await;
}

#[tokio::test]
async fn a_case_id_is_opened_once_and_unknown_cases_are_not_found() {
    for_each_backend(|db| async move {
        let store = &db.store;
        store
            .open_case(new_case("PL-B-ZAE", "POL", "army"), &author("a"))
            .await
            .expect("open");
        let again = store
            .open_case(new_case("PL-B-ZAE", "POL", "army"), &author("a"))
            .await;
        assert!(matches!(again, Err(StoreError::CaseExists(_))), "{again:?}");
        assert!(store.case(&id("XX-B-NOP")).await.expect("read").is_none());
        let missing = store
            .append_event(
                &id("XX-B-NOP"),
                1,
                advance("2025-01-10", Stage::Cancelled),
                &author("a"),
            )
            .await;
        assert!(matches!(missing, Err(StoreError::CaseNotFound(_))));
        assert!(matches!(
            store.verify(&id("XX-B-NOP")).await,
            Err(StoreError::CaseNotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn lists_filter_page_and_stay_inside_the_scope() {
    for_each_backend(|db| async move {
        let store = &db.store;
        for (case_id, country, agency) in [
            ("PL-B-AAA", "POL", "army"),
            ("PL-D-AAB", "POL", "air_force"),
            ("EE-B-AAC", "EST", "army"),
            ("NO-P-AAD", "NOR", "navy"),
        ] {
            store
                .open_case(new_case(case_id, country, agency), &author("a"))
                .await
                .expect("open");
        }
        store
            .append_event(
                &id("EE-B-AAC"),
                1,
                advance("2025-01-06", Stage::LorActionable),
                &author("a"),
            )
            .await
            .expect("advance");
        let poland = Country::from_iso3("POL").expect("POL");
        let everything = store
            .list_cases(&CaseFilter::all_in(Scope::All))
            .await
            .expect("list");
        assert_eq!(everything.total, 4);
        let polish = store
            .list_cases(&CaseFilter::all_in(Scope::Purchaser(poland)))
            .await
            .expect("list");
        assert_eq!(polish.total, 2);
        assert!(
            polish
                .cases
                .iter()
                .all(|stored| stored.case.purchaser == poland)
        );
        let texts = CaseFilter {
            text: Some("pac-3".into()),
            ..CaseFilter::all_in(Scope::Purchaser(poland))
        };
        assert_eq!(store.list_cases(&texts).await.expect("list").total, 2);
        let army = store
            .list_cases(&CaseFilter::all_in(Scope::Agency(Agency::Army)))
            .await
            .expect("list");
        assert_eq!(army.total, 2);
        let actionable = CaseFilter {
            stage: Some(Stage::LorActionable),
            ..CaseFilter::all_in(Scope::All)
        };
        assert_eq!(store.list_cases(&actionable).await.expect("list").total, 1);
        let estonia_for_poland = CaseFilter {
            purchaser: Some(Country::from_iso3("EST").expect("EST")),
            ..CaseFilter::all_in(Scope::Purchaser(poland))
        };
        assert_eq!(
            store
                .list_cases(&estonia_for_poland)
                .await
                .expect("list")
                .total,
            0
        );
        let page = CaseFilter {
            limit: 1,
            offset: 1,
            ..CaseFilter::all_in(Scope::All)
        };
        let page = store.list_cases(&page).await.expect("list");
        assert_eq!((page.total, page.cases.len()), (4, 1));
        assert_eq!(page.cases[0].case.id.as_str(), "NO-P-AAD");
        // LORs of 2025-01-01 are due for validation on the 6th; the actionable one is due
        // its offer 100 days after 2025-01-06.
        let late_on = |day: &str| CaseFilter {
            late_on: Some(day.parse::<Date>().expect("day")),
            ..CaseFilter::all_in(Scope::All)
        };
        assert_eq!(
            store
                .list_cases(&late_on("2025-01-06"))
                .await
                .expect("list")
                .total,
            0
        );
        assert_eq!(
            store
                .list_cases(&late_on("2025-01-07"))
                .await
                .expect("list")
                .total,
            3
        );
        assert_eq!(
            store
                .list_cases(&late_on("2025-04-17"))
                .await
                .expect("list")
                .total,
            4
        );
    })
    .await;
}

#[tokio::test]
async fn an_edited_event_makes_verify_report_the_case_and_the_event() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let case = store.open_case(new_case("PL-B-TAM", "POL", "army"), &author("a")).await.expect("open").case;
        store.append_event(&case.id, 1, advance("2025-01-10", Stage::LorActionable), &author("a")).await.expect("1");
        store.append_event(&case.id, 2, advance("2025-02-10", Stage::LoaDevelopment), &author("a")).await.expect("2");
        assert!(store.verify(&case.id).await.expect("verify").valid);
        db.tamper("UPDATE events SET body = REPLACE(body, '2025-01-10', '2025-01-09') WHERE case_id = 'PL-B-TAM' AND seq = 1")
            .await;
        let verification = store.verify(&case.id).await.expect("verify");
        assert!(!verification.valid);
        assert_eq!(verification.case, case.id);
        let broken = verification.broken.expect("a broken link");
        assert_eq!(broken.seq, 1, "{broken:?}");
    })
    .await;
}

#[tokio::test]
async fn a_deleted_tail_and_a_rewritten_actor_are_detected() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let case = store
            .open_case(new_case("PL-B-DEL", "POL", "army"), &author("a"))
            .await
            .expect("open")
            .case;
        store
            .append_event(
                &case.id,
                1,
                advance("2025-01-10", Stage::LorActionable),
                &author("a"),
            )
            .await
            .expect("1");
        store
            .append_event(
                &case.id,
                2,
                advance("2025-02-10", Stage::LoaDevelopment),
                &author("a"),
            )
            .await
            .expect("2");
        db.tamper("UPDATE events SET actor = 'mallory' WHERE case_id = 'PL-B-DEL' AND seq = 1")
            .await;
        assert_eq!(
            store
                .verify(&case.id)
                .await
                .expect("verify")
                .broken
                .map(|link| link.seq),
            Some(1)
        );
        db.tamper("DELETE FROM events WHERE case_id = 'PL-B-DEL'")
            .await;
        let verification = store.verify(&case.id).await.expect("verify");
        assert_eq!(verification.broken.map(|link| link.seq), Some(0));
    })
    .await;
}

#[tokio::test]
async fn tokens_are_stored_as_hashes_and_can_be_revoked() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let now = jiff::Timestamp::from_second(1_760_000_000).expect("time");
        let poland = Country::from_iso3("POL").ok();
        let purchaser =
            NewToken::new(Role::Purchaser, poland, None, Some("mon-pl".into())).expect("token");
        let issued = store
            .create_token(purchaser.clone(), now)
            .await
            .expect("create");
        assert!(
            !format!("{issued:?}").contains(&issued.token),
            "Debug must not show the secret"
        );
        let found = store
            .authenticate(&issued.token, now)
            .await
            .expect("auth")
            .expect("live token");
        assert_eq!(
            (found.name.as_str(), found.role, found.country),
            ("mon-pl", Role::Purchaser, poland)
        );
        assert!(
            store
                .authenticate("exp_not-a-token", now)
                .await
                .expect("auth")
                .is_none()
        );
        assert!(
            !db.raw_contains("tokens", &issued.token).await,
            "the secret itself is stored"
        );
        assert!(matches!(
            store.create_token(purchaser, now).await,
            Err(StoreError::TokenNameTaken(_))
        ));
        assert!(store.revoke_token("mon-pl", now).await.expect("revoke"));
        assert!(
            !store
                .revoke_token("mon-pl", now)
                .await
                .expect("revoke again")
        );
        assert!(
            store
                .authenticate(&issued.token, now)
                .await
                .expect("auth")
                .is_none()
        );
        let listed = store.tokens().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].revoked_at.is_some());
    })
    .await;
}

#[tokio::test]
async fn a_case_delivers_to_the_last_unit_and_closes() {
    for_each_backend(|db| async move {
        let store = &db.store;
        // Small enough to need no congressional review.
        let mut small = new_case("EE-B-SML", "EST", "army");
        small.lines.truncate(1);
        small.lines[0].quantity = 2;
        small.lines[0].unit_usd = expedite_core::Usd::from_dollars(1_000).expect("small");
        small.lines[0].mde = false;
        let case = store
            .open_case(small, &author("a"))
            .await
            .expect("open")
            .case;
        let steps = [
            advance("2025-01-02", Stage::LorActionable),
            advance("2025-01-03", Stage::LoaDevelopment),
            advance("2025-01-04", Stage::Offered),
            advance("2025-01-05", Stage::Implemented),
            advance("2025-01-06", Stage::OnContract),
            deliver("2025-02-01", 0, 1),
            deliver("2025-03-01", 0, 1),
            advance("2026-03-01", Stage::Closed),
        ];
        for (position, event) in steps.into_iter().enumerate() {
            let version = i64::try_from(position).expect("small") + 1;
            store
                .append_event(&case.id, version, event, &author("a"))
                .await
                .expect("step");
        }
        let done = store.case(&case.id).await.expect("read").expect("exists");
        assert_eq!(
            (done.case.stage, done.version, done.samm_due),
            (Stage::Closed, 9, None)
        );
        assert!(store.verify(&case.id).await.expect("verify").valid);
    })
    .await;
}
