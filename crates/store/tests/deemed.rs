//! What the supervision tick does on its own besides cards: it accepts, as of
//! receipt, the applications nobody decided on within 5 working days
//! (Administrative Licensing Law art. 32), and it is where old
//! Idempotency-Keys are forgotten. On SQLite and PostgreSQL.
//!
//! The application comes in on Monday 23 November 2026: its acceptance window
//! closes on Monday the 30th, so it counts as accepted from Tuesday 1
//! December on.

mod common;

use common::*;
use jiff::Timestamp;
use jiff::civil::date;
use onewindow_core::case::{CaseState, Command, DEEMED_ACCEPTANCE_OPINION, SupplementItem};
use onewindow_core::supervision::Level;
use onewindow_store::audit::Verification;
use onewindow_store::cards::CardFilter;
use onewindow_store::cases::Who;
use onewindow_store::idempotency::{
    IDEMPOTENCY_RETENTION, IdempotencyKey, RecordedAnswer, Reservation,
};

/// 10:00 in Shanghai on `day` (YYYY-MM-DD).
fn on(day: &str) -> Timestamp {
    at(&format!("{day}T02:00:00Z"))
}

fn reject() -> Command {
    Command::Reject {
        reasons: "申请事项不属于本机关职权范围".into(),
        rights_notice: "如不服本决定，可依法申请行政复议或者提起行政诉讼。".into(),
    }
}

fn supplement() -> Command {
    Command::RequestSupplement {
        items: vec![SupplementItem {
            material: "营业执照".into(),
            problem: "缺少副本".into(),
        }],
        note: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_application_is_accepted_by_the_system_as_of_receipt() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;

        // The last day of the window: still the clerk's to decide.
        let report = store.supervise(on("2026-11-30"), &[]).await.unwrap();
        assert!(report.deemed_accepted.is_empty(), "{report:?}");
        let waiting = store.case(case.id).await.unwrap();
        assert_eq!(waiting.facts.state, CaseState::Submitted);
        assert_eq!(waiting.version, case.version);

        let report = store.supervise(on("2026-12-01"), &[]).await.unwrap();
        assert_eq!(report.deemed_accepted, vec![case.id]);
        let accepted = store.case(case.id).await.unwrap();
        assert_eq!(accepted.facts.state, CaseState::Handling);
        assert!(accepted.facts.deemed_accepted);
        assert_eq!(accepted.facts.clock_start, Some(date(2026, 11, 23)));
        // The limits run from receipt: 5 and 20 working days.
        assert_eq!(accepted.facts.promised_due, Some(date(2026, 11, 30)));
        assert_eq!(accepted.facts.statutory_due, Some(date(2026, 12, 21)));
        // Routed to the handler's post like a clerk's acceptance.
        assert_eq!(accepted.assignee_id, Some(world.handler_a.id));

        // The timeline and the audit log name the system, not a person.
        let events = store.case_events(case.id).await.unwrap();
        let event = events.last().unwrap();
        assert_eq!(event.action, "accept");
        assert_eq!(event.actor_id, None);
        assert_eq!(event.actor_name, None);
        assert_eq!(event.detail["opinion"], DEEMED_ACCEPTANCE_OPINION);
        assert_eq!(event.detail["deemed_accepted"], true);
        let audited = store
            .audit_entries("case", &case.id.to_string(), 1)
            .await
            .unwrap();
        assert_eq!(
            (audited[0].actor.as_str(), audited[0].action.as_str()),
            ("system", "accept")
        );

        // The silence is still carded, and the promised limit counted from
        // receipt has passed already.
        let (cards, _) = store
            .cards(&CardFilter {
                case_id: Some(case.id),
                ..CardFilter::default()
            })
            .await
            .unwrap();
        let mut conditions: Vec<_> = cards
            .iter()
            .map(|c| (c.condition.clone(), c.level))
            .collect();
        conditions.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            conditions,
            vec![
                ("overdue:case_acceptance".to_string(), Level::Warning),
                ("overdue:case_promised".to_string(), Level::Yellow),
            ]
        );

        // A second tick does nothing more.
        let audit_entries = audit_entry_count(&store).await;
        let again = store.supervise(on("2026-12-01"), &[]).await.unwrap();
        assert!(again.deemed_accepted.is_empty(), "{again:?}");
        assert_eq!(store.case(case.id).await.unwrap(), accepted);
        assert_eq!(
            store.case_events(case.id).await.unwrap().len(),
            events.len()
        );
        assert_eq!(audit_entry_count(&store).await, audit_entries);
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_and_supplement_awaiting_cases_are_left_as_they_are() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let rejected = submit(&store, world.item.id).await;
        let rejected = act(&store, &world.clerk, &rejected, reject())
            .await
            .unwrap()
            .case;
        let awaiting = submit(&store, world.item.id).await;
        let awaiting = act(&store, &world.clerk, &awaiting, supplement())
            .await
            .unwrap()
            .case;
        // Supplemented on Wednesday the 25th: the window counts from then
        // and closes on Wednesday 2 December.
        let supplemented = submit(&store, world.item.id).await;
        let supplemented = act(&store, &world.clerk, &supplemented, supplement())
            .await
            .unwrap()
            .case;
        let resubmit = Command::Resubmit {
            note: "已补齐".into(),
        };
        store
            .apply_command(
                supplemented.id,
                None,
                Who::Applicant,
                None,
                on("2026-11-25"),
                move |context| {
                    let rules = context.item.guide.rules();
                    let transition = onewindow_core::case::decide(
                        &context.case.facts,
                        &resubmit,
                        &rules,
                        context.calendar.as_ref(),
                        on("2026-11-25"),
                    )?;
                    Ok((transition, None))
                },
            )
            .await
            .unwrap();

        let report = store.supervise(on("2026-12-01"), &[]).await.unwrap();
        assert!(report.deemed_accepted.is_empty(), "{report:?}");
        assert_eq!(store.case(rejected.id).await.unwrap(), rejected);
        assert_eq!(store.case(awaiting.id).await.unwrap(), awaiting);
        let waiting = store.case(supplemented.id).await.unwrap();
        assert_eq!(waiting.facts.state, CaseState::Submitted);

        let report = store.supervise(on("2026-12-03"), &[]).await.unwrap();
        assert_eq!(report.deemed_accepted, vec![supplemented.id]);
        let accepted = store.case(supplemented.id).await.unwrap();
        assert!(accepted.facts.deemed_accepted);
        assert_eq!(accepted.facts.clock_start, Some(date(2026, 11, 25)));
        assert_eq!(store.case(awaiting.id).await.unwrap(), awaiting);
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_older_than_the_retention_are_purged() {
    for_each_backend(|store| async move {
        let key = |name: &str| IdempotencyKey {
            scope: "staff:1".into(),
            key: name.into(),
            request_hash: format!("POST /api/v1/items {name}"),
        };
        let answer = RecordedAnswer {
            status: 201,
            content_type: Some("application/json".into()),
            body: br#"{"id":1}"#.to_vec(),
        };
        let old_at = on("2026-11-23");
        let tick_at = on("2026-11-24")
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap();
        let fresh_at = on("2026-11-24");
        for (name, at) in [("old", old_at), ("fresh", fresh_at)] {
            let reserved = store.reserve_idempotency_key(&key(name), at).await.unwrap();
            assert_eq!(reserved, Reservation::Reserved);
            store
                .complete_idempotency_key(&key(name), answer.clone())
                .await
                .unwrap();
        }

        let purged = store
            .purge_idempotency_keys(tick_at - IDEMPOTENCY_RETENTION)
            .await
            .unwrap();
        assert_eq!(purged, 1);
        // The old key is forgotten: its repeat runs as a new request.
        assert_eq!(
            store
                .reserve_idempotency_key(&key("old"), tick_at)
                .await
                .unwrap(),
            Reservation::Reserved
        );
        // The fresh one still answers its repeat.
        assert_eq!(
            store
                .reserve_idempotency_key(&key("fresh"), tick_at)
                .await
                .unwrap(),
            Reservation::Answered(answer)
        );
    })
    .await;
}
