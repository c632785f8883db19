//! The clock in the store: the deadlines index written with every case
//! change, local calendar overrides (closures, extra working days) and the
//! recomputation they trigger, on SQLite and PostgreSQL.
//!
//! Every command here is decided on the store's own calendar
//! (`Store::calendar_for` the case's region), as the server does, so what a
//! command computes and what a recompute computes agree. The dates are in
//! late 2026: Monday 23 November is the receipt day; 25 November (Wednesday)
//! is the day closed by the overrides. No holiday falls in November or
//! December 2026, so without overrides Saturday and Sunday are the only days
//! off. A supervision card's answer deadline moves like a case's and keeps
//! its own change records.

mod common;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use futures::FutureExt;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onewindow_core::calendar::{OverrideKind, TimeLimit, WorkCalendar};
use onewindow_core::card::CardCommand;
use onewindow_core::case::{Case, CaseState, Command, SpecialProcedure, Transition};
use onewindow_core::catalog::RegionLevel;
use onewindow_core::clock::{DeadlineKind, DeadlineState};
use onewindow_core::staff::Role;
use onewindow_core::supervision::Level;
use onewindow_store::audit::Verification;
use onewindow_store::cards::CardFilter;
use onewindow_store::cases::{Applied, CaseContext, Who, assignee_facts};
use onewindow_store::clock::{DeadlineChange, DeadlineRecord, NewOverride, Recomputed};
use onewindow_store::staff::{NewDepartment, StaffMember};
use onewindow_store::{Store, StoreError};

// ---------------------------------------------------------------------------
// Helpers.

/// [`for_each_backend`], going on to the next backend when the test fails on
/// one, so that a failure names every backend it happens on.
async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let failed: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    for_each_backend(|store| {
        let backend = if is_postgres(&store) {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let run = AssertUnwindSafe(test(store)).catch_unwind();
        let failed = &failed;
        async move {
            if run.await.is_err() {
                failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(backend);
            }
        }
    })
    .await;
    let failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failed.is_empty(),
        "failed on {} (see the panics above)",
        failed.join(" and ")
    );
}

/// 10:00 in Beijing on `day` ("2026-11-25").
fn on(day: &str) -> Timestamp {
    at(&format!("{day}T02:00:00Z"))
}

/// The day closed in the stories: Wednesday 25 November 2026.
fn closed_day() -> Date {
    date(2026, 11, 25)
}

const CLOSURE_REASON: &str = "暴雨红色预警，全县停止办公";

fn closure(region: &str, day: Date, reason: &str) -> NewOverride {
    NewOverride {
        region: region.into(),
        date: day,
        kind: OverrideKind::Closure,
        reason: reason.into(),
    }
}

/// What a recomputation counted: (open deadlines examined, moved).
fn moved(examined: u64, moved: u64) -> (u64, u64) {
    (examined, moved)
}

fn counts(r: &Recomputed) -> (u64, u64) {
    (r.examined, r.moved)
}

/// The decide function the server passes for a staff member, on the store's
/// calendar of the case's region (read when deciding, as the server does).
fn as_staff_on_store_calendar(
    store: &Store,
    actor: &StaffMember,
    command: Command,
    now: Timestamp,
) -> impl Fn(&CaseContext) -> Result<(Transition, Option<i64>), StoreError> + Send + 'static {
    let store = store.clone();
    let actor = actor.actor();
    move |context: &CaseContext| {
        let on_behalf_of = onewindow_core::case::authorize(
            &actor,
            &command,
            &context.case.facts,
            &context.item.guide.steps,
            context.case.department_id,
            assignee_facts(&context.assignee),
        )
        .map_err(StoreError::Domain)?;
        let calendar = store.calendar_for(&context.region);
        let transition = onewindow_core::case::decide(
            &context.case.facts,
            &command,
            &context.item.guide.rules(),
            calendar.as_ref(),
            now,
        )
        .map_err(StoreError::Domain)?;
        Ok((transition, on_behalf_of))
    }
}

/// `actor` gives `command` on `case_id` at `now`, decided on the store's
/// calendar.
async fn staff_at(
    store: &Store,
    actor: &StaffMember,
    case_id: i64,
    expected_version: Option<i64>,
    command: Command,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    store
        .apply_command(
            case_id,
            expected_version,
            Who::Staff(actor.id),
            None,
            now,
            as_staff_on_store_calendar(store, actor, command, now),
        )
        .await
}

/// `actor` gives `command` on the case as last read, at `now`.
async fn staff(
    store: &Store,
    actor: &StaffMember,
    case: &Case,
    command: Command,
    now: Timestamp,
) -> Case {
    let label = format!("{:?}", command.action());
    staff_at(store, actor, case.id, Some(case.version), command, now)
        .await
        .unwrap_or_else(|e| panic!("{label} on case {} by {}: {e:?}", case.id, actor.login))
        .case
}

/// The applicant withdraws case `case_id` at `now`.
async fn withdraw(store: &Store, case_id: i64, now: Timestamp) -> Case {
    let decide_store = store.clone();
    store
        .apply_command(case_id, None, Who::Applicant, None, now, move |context| {
            let calendar = decide_store.calendar_for(&context.region);
            let transition = onewindow_core::case::decide(
                &context.case.facts,
                &Command::Withdraw {
                    reason: "不再需要".into(),
                },
                &context.item.guide.rules(),
                calendar.as_ref(),
                now,
            )?;
            Ok((transition, None))
        })
        .await
        .expect("the applicant withdraws")
        .case
}

async fn submit_at(store: &Store, item_id: i64, now: Timestamp) -> Case {
    store
        .submit_case(application(item_id), None, now)
        .await
        .expect("submit a case")
        .case
}

/// A case of `world`'s item submitted and accepted on `day`.
async fn accepted_on(store: &Store, world: &World, day: &str) -> Case {
    let case = submit_at(store, world.item.id, on(day)).await;
    staff(store, &world.clerk, &case, accept(), on(day)).await
}

/// Whoever manages the calendar in the stories.
async fn calendar_admin(store: &Store, world: &World) -> StaffMember {
    person(
        store,
        world.department.id,
        "calendar_admin",
        "日历管理周敏",
        &[Role::Admin],
    )
    .await
}

/// The case's deadline of `kind`.
async fn deadline(store: &Store, case_id: i64, kind: DeadlineKind) -> DeadlineRecord {
    let all = store.case_deadlines(case_id).await.unwrap();
    all.iter()
        .find(|d| d.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("case {case_id} has no {kind:?} deadline: {all:#?}"))
}

/// The case's deadlines as (kind, due day, state), in the index's order.
async fn dues(store: &Store, case_id: i64) -> Vec<(DeadlineKind, Date, DeadlineState)> {
    store
        .case_deadlines(case_id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.kind, d.due, d.state))
        .collect()
}

/// The case's deadline changes as (kind, old, new), sorted by kind and
/// time (the order within one recompute is not specified).
fn moves(changes: &[DeadlineChange]) -> Vec<(DeadlineKind, Date, Date)> {
    let mut moves: Vec<(usize, (DeadlineKind, Date, Date))> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (i, (c.kind, c.old_due, c.new_due)))
        .collect();
    moves.sort_by_key(|(i, (kind, _, _))| (kind.key(), *i));
    moves.into_iter().map(|(_, m)| m).collect()
}

async fn changes_count(store: &Store) -> i64 {
    count(store, "SELECT COUNT(*) FROM schedule_changes").await
}

fn is_field(e: &StoreError, field: &str) -> bool {
    matches!(e, StoreError::Domain(d) if d.field() == Some(field))
}

// ---------------------------------------------------------------------------
// 1. The index written with the case.

#[tokio::test(flavor = "multi_thread")]
async fn submitting_writes_the_acceptance_deadline_and_accepting_writes_the_handling_ones() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit_at(&store, world.item.id, now()).await;

        let submitted = store.case_deadlines(case.id).await.unwrap();
        assert_eq!(submitted.len(), 1, "{submitted:#?}");
        let acceptance = &submitted[0];
        assert_eq!(acceptance.kind, DeadlineKind::CaseAcceptance);
        assert_eq!(acceptance.object_id, case.id);
        assert_eq!(acceptance.region, "430423");
        assert_eq!(acceptance.deadline.start, date(2026, 11, 23));
        assert_eq!(acceptance.deadline.limit, TimeLimit::working_days(5));
        assert!(acceptance.deadline.pauses.is_empty());
        // Five working days after Monday the 23rd: Monday the 30th.
        assert_eq!(acceptance.due, date(2026, 11, 30));
        assert_eq!(acceptance.state, DeadlineState::Running);

        let accepted = staff(&store, &world.clerk, &case, accept(), now()).await;
        assert_eq!(accepted.facts.promised_due, Some(date(2026, 11, 30)));
        assert_eq!(accepted.facts.statutory_due, Some(date(2026, 12, 21)));
        let all = store.case_deadlines(case.id).await.unwrap();
        let kinds: Vec<DeadlineKind> = all.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DeadlineKind::CaseAcceptance,
                DeadlineKind::CasePromised,
                DeadlineKind::CaseStatutory,
                DeadlineKind::CaseStep,
            ]
        );
        // The acceptance deadline is the same row, ended.
        assert_eq!(all[0].id, acceptance.id);
        assert_eq!(all[0].state, DeadlineState::Ended);
        assert_eq!(all[0].due, date(2026, 11, 30));

        let promised = &all[1];
        assert_eq!(promised.deadline.start, date(2026, 11, 23));
        assert_eq!(promised.deadline.limit, TimeLimit::working_days(5));
        assert_eq!(Some(promised.due), accepted.facts.promised_due);
        assert_eq!(promised.state, DeadlineState::Running);
        let statutory = &all[2];
        assert_eq!(statutory.deadline.limit, TimeLimit::working_days(20));
        assert_eq!(Some(statutory.due), accepted.facts.statutory_due);
        assert_eq!(statutory.state, DeadlineState::Running);
        // The first step (承办, 2 working days) from the day of acceptance.
        let step = &all[3];
        assert_eq!(step.deadline.start, date(2026, 11, 23));
        assert_eq!(step.deadline.limit, TimeLimit::working_days(2));
        assert_eq!(step.due, date(2026, 11, 25));
        assert_eq!(step.state, DeadlineState::Running);
        for d in &all {
            assert_eq!(d.object_id, case.id);
            assert_eq!(d.region, "430423");
        }
        // What the store reads back is what the command returned.
        let stored = store.case(case.id).await.unwrap();
        assert_eq!(stored.facts.promised_due, accepted.facts.promised_due);
        assert_eq!(stored.facts.statutory_due, accepted.facts.statutory_due);

        // The next step replaces the step deadline (审核, 2 working days from
        // Tuesday the 24th).
        let reviewed = staff(
            &store,
            &world.handler_a,
            &accepted,
            complete_step("同意"),
            on("2026-11-24"),
        )
        .await;
        assert_eq!(reviewed.facts.state, CaseState::Reviewing);
        let step_now = deadline(&store, case.id, DeadlineKind::CaseStep).await;
        assert_eq!(step_now.id, step.id);
        assert_eq!(step_now.deadline.start, date(2026, 11, 24));
        assert_eq!(step_now.due, date(2026, 11, 26));
        assert_eq!(step_now.state, DeadlineState::Running);
        // Nothing was moved by a calendar change.
        assert!(
            store
                .case_deadline_changes(case.id)
                .await
                .unwrap()
                .is_empty()
        );
        // Another case's deadlines are its own.
        let other = submit_at(&store, world.item.id, on("2026-11-26")).await;
        assert_eq!(
            dues(&store, other.id).await,
            [(
                DeadlineKind::CaseAcceptance,
                date(2026, 12, 3),
                DeadlineState::Running
            )]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn completing_the_last_step_ends_the_step_deadline() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = accepted_on(&store, &world, "2026-11-23").await;
        let day = on("2026-11-24");
        let case = staff(&store, &world.handler_a, &case, complete_step("同意"), day).await;
        let case = staff(&store, &world.reviewer, &case, complete_step("同意"), day).await;
        let case = staff(&store, &world.approver, &case, complete_step("同意"), day).await;
        assert_eq!(case.facts.state, CaseState::Deciding);
        // No step is in progress any more: the last step's deadline is done
        // and no longer watched.
        let steps: Vec<DeadlineRecord> = store
            .case_deadlines(case.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.kind == DeadlineKind::CaseStep)
            .collect();
        assert!(
            steps.iter().all(|d| d.state == DeadlineState::Ended),
            "the step deadline of a case in Deciding is still watched: {steps:#?}"
        );
        let case = staff(&store, &world.approver, &case, approve(), day).await;
        let case = staff(&store, &world.clerk, &case, deliver(), day).await;
        assert_eq!(case.facts.state, CaseState::Completed);
        let open: Vec<DeadlineRecord> = store
            .case_deadlines(case.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.state != DeadlineState::Ended)
            .collect();
        assert!(
            open.is_empty(),
            "a completed case still has deadlines watched: {open:#?}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 2. A closure moves open deadlines.

#[tokio::test(flavor = "multi_thread")]
async fn a_closure_moves_an_open_cases_due_days_one_working_day_later() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        // Accepted on Monday the 23rd: promised 30 Nov, statutory 21 Dec,
        // first step 25 Nov.
        let open = accepted_on(&store, &world, "2026-11-23").await;
        // Submitted on the 23rd, not yet accepted: acceptance due 30 Nov.
        let waiting = submit_at(&store, world.item.id, now()).await;
        // Received and accepted on Thursday the 26th: nothing of it counts
        // the 25th.
        let later_case = accepted_on(&store, &world, "2026-11-26").await;
        let later_dues = dues(&store, later_case.id).await;

        let applied = store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        // The open case's promised, statutory and step deadlines, and the
        // waiting case's acceptance deadline: all moved, in one call.
        assert_eq!(counts(&applied.recomputed), moved(4, 4));
        assert_eq!(applied.record.day.region, "430423");
        assert_eq!(applied.record.day.date, closed_day());
        assert_eq!(applied.record.day.kind, OverrideKind::Closure);
        assert_eq!(applied.record.day.reason, CLOSURE_REASON);
        assert_eq!(applied.record.created_by, Some(manager.id));
        assert_eq!(applied.record.created_at, now());
        assert_eq!(applied.record.revoked_at, None);
        assert_eq!(
            store.overrides().await.unwrap(),
            std::slice::from_ref(&applied.record)
        );
        // The calendar in force knows the day is closed.
        let calendar = store.calendar_for("430423");
        assert!(!calendar.is_working_day(closed_day()));
        assert_eq!(store.calendars().overrides().len(), 1);

        assert_eq!(
            dues(&store, open.id).await,
            [
                (
                    DeadlineKind::CaseAcceptance,
                    date(2026, 11, 30),
                    DeadlineState::Ended
                ),
                (
                    DeadlineKind::CasePromised,
                    date(2026, 12, 1),
                    DeadlineState::Running
                ),
                (
                    DeadlineKind::CaseStatutory,
                    date(2026, 12, 22),
                    DeadlineState::Running
                ),
                (
                    DeadlineKind::CaseStep,
                    date(2026, 11, 26),
                    DeadlineState::Running
                ),
            ]
        );
        let moved_case = store.case(open.id).await.unwrap();
        assert_eq!(moved_case.facts.promised_due, Some(date(2026, 12, 1)));
        assert_eq!(moved_case.facts.statutory_due, Some(date(2026, 12, 22)));
        // The due days live in the deadlines index: the case row itself is
        // untouched (a command decided on the old calendar is caught by the
        // calendar generation, not by the case version).
        assert_eq!(moved_case.version, open.version);
        // Only the due days changed.
        assert_eq!(moved_case.facts.state, open.facts.state);
        assert_eq!(moved_case.facts.clock, open.facts.clock);
        assert_eq!(moved_case.assignee_id, open.assignee_id);

        let changes = store.case_deadline_changes(open.id).await.unwrap();
        assert_eq!(
            moves(&changes),
            [
                (
                    DeadlineKind::CasePromised,
                    date(2026, 11, 30),
                    date(2026, 12, 1)
                ),
                (
                    DeadlineKind::CaseStatutory,
                    date(2026, 12, 21),
                    date(2026, 12, 22)
                ),
                (
                    DeadlineKind::CaseStep,
                    date(2026, 11, 25),
                    date(2026, 11, 26)
                ),
            ]
        );
        for change in &changes {
            assert!(change.reason.contains(CLOSURE_REASON), "{change:?}");
            assert!(change.reason.contains("2026-11-25"), "{change:?}");
            assert_eq!(change.changed_at, now());
        }
        let promised = deadline(&store, open.id, DeadlineKind::CasePromised).await;
        assert!(
            changes
                .iter()
                .any(|c| c.deadline_id == promised.id && c.kind == DeadlineKind::CasePromised)
        );

        // The waiting case's acceptance window closes a day later.
        assert_eq!(
            dues(&store, waiting.id).await,
            [(
                DeadlineKind::CaseAcceptance,
                date(2026, 12, 1),
                DeadlineState::Running
            )]
        );
        assert_eq!(
            moves(&store.case_deadline_changes(waiting.id).await.unwrap()),
            [(
                DeadlineKind::CaseAcceptance,
                date(2026, 11, 30),
                date(2026, 12, 1)
            )]
        );

        // The case whose periods start after the closed day is not touched.
        assert_eq!(dues(&store, later_case.id).await, later_dues);
        assert_eq!(store.case(later_case.id).await.unwrap(), later_case);
        assert!(
            store
                .case_deadline_changes(later_case.id)
                .await
                .unwrap()
                .is_empty()
        );
        // One record per schedule moved: the acceptance window and the
        // promised limit (5 working days from the same day) share one.
        assert_eq!(changes_count(&store).await, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_extra_working_day_moves_due_days_earlier() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        // Saturday the 28th worked: the fifth working day is the 28th.
        let applied = store
            .add_override(
                NewOverride {
                    region: "430423".into(),
                    date: date(2026, 11, 28),
                    kind: OverrideKind::Workday,
                    reason: "集中办理周".into(),
                },
                manager.id,
                now(),
            )
            .await
            .unwrap();
        // Promised (due 30 Nov) and statutory (due 21 Dec) contain the 28th;
        // the step (due 25 Nov) does not.
        assert_eq!(counts(&applied.recomputed), moved(2, 2));
        let case = store.case(open.id).await.unwrap();
        assert_eq!(case.facts.promised_due, Some(date(2026, 11, 28)));
        assert_eq!(case.facts.statutory_due, Some(date(2026, 12, 18)));
        assert_eq!(
            deadline(&store, open.id, DeadlineKind::CasePromised)
                .await
                .due,
            date(2026, 11, 28)
        );
        assert_eq!(
            deadline(&store, open.id, DeadlineKind::CaseStep).await.due,
            date(2026, 11, 25)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_cases_deadlines_are_not_moved() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        // Completed: accepted on the 23rd, every step done, decided and
        // delivered on the 24th (the last step, 1 working day from the 24th,
        // was due on the 25th).
        let completed = accepted_on(&store, &world, "2026-11-23").await;
        let day = on("2026-11-24");
        let completed = staff(
            &store,
            &world.handler_a,
            &completed,
            complete_step("同意"),
            day,
        )
        .await;
        let completed = staff(
            &store,
            &world.reviewer,
            &completed,
            complete_step("同意"),
            day,
        )
        .await;
        let completed = staff(
            &store,
            &world.approver,
            &completed,
            complete_step("同意"),
            day,
        )
        .await;
        let completed = staff(&store, &world.approver, &completed, approve(), day).await;
        let completed = staff(&store, &world.clerk, &completed, deliver(), day).await;
        assert_eq!(completed.facts.state, CaseState::Completed);
        // Withdrawn: accepted on the 23rd, withdrawn on the 24th.
        let withdrawn = accepted_on(&store, &world, "2026-11-23").await;
        let withdrawn = withdraw(&store, withdrawn.id, day).await;
        assert_eq!(withdrawn.facts.state, CaseState::Withdrawn);
        let completed_dues = dues(&store, completed.id).await;
        let withdrawn_dues = dues(&store, withdrawn.id).await;

        let applied = store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(
            counts(&applied.recomputed),
            moved(0, 0),
            "deadlines of ended cases were recomputed: completed {:#?}, withdrawn {:#?}",
            store.case_deadlines(completed.id).await.unwrap(),
            store.case_deadlines(withdrawn.id).await.unwrap()
        );
        assert_eq!(dues(&store, completed.id).await, completed_dues);
        assert_eq!(dues(&store, withdrawn.id).await, withdrawn_dues);
        assert!(
            store
                .case_deadline_changes(completed.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .case_deadline_changes(withdrawn.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.case(completed.id).await.unwrap(), completed);
        assert_eq!(store.case(withdrawn.id).await.unwrap(), withdrawn);
    })
    .await;
}

// ---------------------------------------------------------------------------
// 3. Revoking.

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_closure_moves_the_due_days_back_and_keeps_the_record() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        let original = dues(&store, open.id).await;
        let added = store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(counts(&added.recomputed), moved(3, 3));
        let moved_case = store.case(open.id).await.unwrap();
        let id = added.record.day.id;

        // A revocation needs a reason.
        let blank = store
            .revoke_override(id, "  ", manager.id, later(8))
            .await
            .unwrap_err();
        assert!(is_field(&blank, "reason"), "{blank:?}");

        let revoked = store
            .revoke_override(id, "预警解除，恢复办公", manager.id, later(8))
            .await
            .unwrap();
        assert_eq!(counts(&revoked.recomputed), moved(3, 3));
        assert_eq!(revoked.record.day, added.record.day);
        assert_eq!(revoked.record.revoked_at, Some(later(8)));
        assert_eq!(
            revoked.record.revoke_reason.as_deref(),
            Some("预警解除，恢复办公")
        );
        assert_eq!(dues(&store, open.id).await, original);
        let back = store.case(open.id).await.unwrap();
        assert_eq!(back.facts.promised_due, Some(date(2026, 11, 30)));
        assert_eq!(back.facts.statutory_due, Some(date(2026, 12, 21)));
        assert_eq!(back.version, moved_case.version);
        assert!(store.calendar_for("430423").is_working_day(closed_day()));
        assert!(store.calendars().overrides().is_empty());

        // Each deadline: there and back, in order.
        let changes = store.case_deadline_changes(open.id).await.unwrap();
        assert_eq!(
            moves(&changes),
            [
                (
                    DeadlineKind::CasePromised,
                    date(2026, 11, 30),
                    date(2026, 12, 1)
                ),
                (
                    DeadlineKind::CasePromised,
                    date(2026, 12, 1),
                    date(2026, 11, 30)
                ),
                (
                    DeadlineKind::CaseStatutory,
                    date(2026, 12, 21),
                    date(2026, 12, 22)
                ),
                (
                    DeadlineKind::CaseStatutory,
                    date(2026, 12, 22),
                    date(2026, 12, 21)
                ),
                (
                    DeadlineKind::CaseStep,
                    date(2026, 11, 25),
                    date(2026, 11, 26)
                ),
                (
                    DeadlineKind::CaseStep,
                    date(2026, 11, 26),
                    date(2026, 11, 25)
                ),
            ]
        );
        let back_changes: Vec<&DeadlineChange> = changes
            .iter()
            .filter(|c| c.changed_at == later(8))
            .collect();
        assert_eq!(back_changes.len(), 3);
        for change in back_changes {
            assert!(change.reason.contains("撤销"), "{change:?}");
            assert!(change.reason.contains("预警解除，恢复办公"), "{change:?}");
        }

        // The override stays on record, revoked.
        let records = store.overrides().await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0], revoked.record);

        // Revoking again, or an override that does not exist: not found.
        let again = store
            .revoke_override(id, "重复撤销", manager.id, later(9))
            .await;
        assert!(
            matches!(again, Err(StoreError::NotFound { .. })),
            "{again:?}"
        );
        let unknown = store
            .revoke_override(id + 100, "不存在", manager.id, later(9))
            .await;
        assert!(
            matches!(unknown, Err(StoreError::NotFound { .. })),
            "{unknown:?}"
        );
        assert_eq!(store.overrides().await.unwrap(), records);
        assert_eq!(changes_count(&store).await, 6);

        // The day can be closed again once the first override is revoked.
        let again = store
            .add_override(
                closure("430423", closed_day(), "再次预警"),
                manager.id,
                later(10),
            )
            .await
            .unwrap();
        assert_eq!(counts(&again.recomputed), moved(3, 3));
        assert_eq!(store.overrides().await.unwrap().len(), 2);
        assert_eq!(
            store.case(open.id).await.unwrap().facts.promised_due,
            Some(date(2026, 12, 1))
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 4. Regions.

#[tokio::test(flavor = "multi_thread")]
async fn an_override_applies_to_its_region_or_to_every_region_when_empty() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        // A department of the neighbouring county, 430424.
        let neighbour = store
            .create_department(
                admin(),
                NewDepartment {
                    code: "HDSJ".into(),
                    name: "衡东县市场监督管理局".into(),
                    level: RegionLevel::County,
                    parent_id: None,
                    region_code: "430424".into(),
                    window_location: "政务服务中心二楼".into(),
                    phone: "0734-5222001".into(),
                    address: "衡东县城关镇".into(),
                },
                now(),
            )
            .await
            .unwrap();
        let neighbour_clerk = person(
            &store,
            neighbour.id,
            "hd_clerk",
            "衡东窗口",
            &[Role::WindowClerk],
        )
        .await;
        let neighbour_item = published_item(
            &store,
            neighbour.id,
            guide("000117001002", "食品经营许可（衡东）"),
        )
        .await;
        let ours = accepted_on(&store, &world, "2026-11-23").await;
        let theirs = submit_at(&store, neighbour_item.id, now()).await;
        let theirs = staff(&store, &neighbour_clerk, &theirs, accept(), now()).await;
        assert_eq!(
            deadline(&store, theirs.id, DeadlineKind::CasePromised)
                .await
                .region,
            "430424"
        );
        let our_dues = dues(&store, ours.id).await;

        // The neighbour's closure moves the neighbour's case only.
        let applied = store
            .add_override(
                closure("430424", closed_day(), "衡东县停电"),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(counts(&applied.recomputed), moved(6, 3));
        assert_eq!(dues(&store, ours.id).await, our_dues);
        assert_eq!(store.case(ours.id).await.unwrap(), ours);
        assert!(
            store
                .case_deadline_changes(ours.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.case(theirs.id).await.unwrap().facts.promised_due,
            Some(date(2026, 12, 1))
        );
        assert!(store.calendar_for("430423").is_working_day(closed_day()));
        assert!(!store.calendar_for("430424").is_working_day(closed_day()));

        // An override without a region is everyone's.
        let applied = store
            .add_override(closure("", closed_day(), "全市停止办公"), manager.id, now())
            .await
            .unwrap();
        assert_eq!(counts(&applied.recomputed), moved(6, 3));
        let ours_now = store.case(ours.id).await.unwrap();
        assert_eq!(ours_now.facts.promised_due, Some(date(2026, 12, 1)));
        assert_eq!(ours_now.facts.statutory_due, Some(date(2026, 12, 22)));
        assert_eq!(
            deadline(&store, ours.id, DeadlineKind::CasePromised)
                .await
                .due,
            date(2026, 12, 1)
        );
        let changes = store.case_deadline_changes(ours.id).await.unwrap();
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| c.reason.contains("全市停止办公")));
        // The neighbour's case was already moved by its own closure.
        assert_eq!(
            store.case_deadline_changes(theirs.id).await.unwrap().len(),
            3
        );
        assert!(!store.calendar_for("430423").is_working_day(closed_day()));
        assert!(!store.calendar_for("").is_working_day(closed_day()));
    })
    .await;
}

// ---------------------------------------------------------------------------
// 5. Bad input.

#[tokio::test(flavor = "multi_thread")]
async fn bad_overrides_are_refused_naming_the_field_and_write_nothing() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        let first = store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        let overrides = store.overrides().await.unwrap();
        let audit = audit_entry_count(&store).await;
        let changes = changes_count(&store).await;
        let case = store.case(open.id).await.unwrap();
        let case_dues = dues(&store, open.id).await;

        let refusals: Vec<(&str, NewOverride)> = vec![
            ("reason", closure("430423", date(2026, 11, 26), "")),
            ("reason", closure("430423", date(2026, 11, 26), " \t ")),
            (
                "reason",
                closure("430423", date(2026, 11, 26), &"停".repeat(201)),
            ),
            (
                "region",
                closure("43a423", date(2026, 11, 26), CLOSURE_REASON),
            ),
            (
                "region",
                closure("衡山县", date(2026, 11, 26), CLOSURE_REASON),
            ),
            (
                "region",
                closure("4304230000001", date(2026, 11, 26), CLOSURE_REASON),
            ),
            // The same region and day again, even as another kind.
            ("date", closure("430423", closed_day(), "重复")),
            (
                "date",
                NewOverride {
                    kind: OverrideKind::Workday,
                    ..closure(" 430423 ", closed_day(), "重复")
                },
            ),
        ];
        for (field, new) in refusals {
            let refused = store
                .add_override(new.clone(), manager.id, later(1))
                .await
                .unwrap_err();
            assert!(
                is_field(&refused, field),
                "{new:?}: expected a refusal naming {field:?}, got {refused:?}"
            );
        }
        assert_eq!(store.overrides().await.unwrap(), overrides);
        assert_eq!(audit_entry_count(&store).await, audit);
        assert_eq!(changes_count(&store).await, changes);
        assert_eq!(store.case(open.id).await.unwrap(), case);
        assert_eq!(dues(&store, open.id).await, case_dues);
        assert_eq!(
            store.calendars().overrides(),
            std::slice::from_ref(&first.record.day)
        );

        // The writer is not stuck: a good override still goes through.
        let next = store
            .add_override(
                closure("430423", date(2026, 11, 26), "停电检修"),
                manager.id,
                later(2),
            )
            .await
            .unwrap();
        // Promised, statutory, and the step (moved to the 26th by the first).
        assert_eq!(counts(&next.recomputed), moved(3, 3));
        assert_eq!(store.overrides().await.unwrap().len(), 2);
        assert_eq!(
            store.case(open.id).await.unwrap().facts.promised_due,
            Some(date(2026, 12, 2))
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 6. The audit log.

#[tokio::test(flavor = "multi_thread")]
async fn every_override_and_revocation_is_audited_and_the_chain_stays_intact() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        let before = audit_entry_count(&store).await;

        let added = store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(audit_entry_count(&store).await, before + 1);
        let id = added.record.day.id.to_string();
        let entries = store.audit_entries("calendar", &id, 10).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "calendar_override");
        assert_eq!(entries[0].actor, format!("staff:{}", manager.id));
        assert!(
            entries[0].detail.contains(CLOSURE_REASON),
            "{}",
            entries[0].detail
        );
        assert!(
            entries[0].detail.contains("2026-11-25"),
            "{}",
            entries[0].detail
        );

        // A case transition after the override chains on its entry.
        let open = staff(
            &store,
            &world.handler_a,
            &store.case(open.id).await.unwrap(),
            complete_step("同意"),
            on("2026-11-24"),
        )
        .await;
        assert_eq!(audit_entry_count(&store).await, before + 2);

        store
            .revoke_override(added.record.day.id, "预警解除", manager.id, later(8))
            .await
            .unwrap();
        assert_eq!(audit_entry_count(&store).await, before + 3);
        let entries = store.audit_entries("calendar", &id, 10).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["calendar_override_revoke", "calendar_override"]);
        assert!(
            entries[0].detail.contains("预警解除"),
            "{}",
            entries[0].detail
        );

        // Refusals append nothing.
        let _ = store
            .add_override(closure("430423", closed_day(), ""), manager.id, later(9))
            .await
            .unwrap_err();
        let _ = store
            .revoke_override(added.record.day.id, "再次撤销", manager.id, later(9))
            .await
            .unwrap_err();
        assert_eq!(audit_entry_count(&store).await, before + 3);

        // And the next transition after the revocation too.
        staff(
            &store,
            &world.reviewer,
            &store.case(open.id).await.unwrap(),
            complete_step("同意"),
            on("2026-11-25"),
        )
        .await;
        let total = audit_entry_count(&store).await;
        assert_eq!(total, before + 4);
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries: total }
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 7. Commands after a recompute.

#[tokio::test(flavor = "multi_thread")]
async fn a_command_after_a_recompute_counts_both_the_pause_and_the_closure() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        store
            .add_override(
                closure("430423", closed_day(), CLOSURE_REASON),
                manager.id,
                now(),
            )
            .await
            .unwrap();
        let suspend = || Command::Suspend {
            procedure: SpecialProcedure::ExpertReview,
            reason: "组织专家评审".into(),
            planned_days: 5,
        };

        // Suspended on Thursday the 26th, resumed on Monday the 30th: the
        // 27th and the 30th do not count, nor does the closed 25th.
        let fresh = store.case(open.id).await.unwrap();
        let suspended = staff(
            &store,
            &world.handler_a,
            &fresh,
            suspend(),
            on("2026-11-26"),
        )
        .await;
        assert_eq!(suspended.facts.state, CaseState::Suspended);
        assert_eq!(suspended.facts.promised_due, Some(date(2026, 12, 1)));
        let paused = deadline(&store, open.id, DeadlineKind::CasePromised).await;
        assert_eq!(paused.state, DeadlineState::Paused);
        assert_eq!(paused.due, date(2026, 12, 1));
        assert_eq!(paused.deadline.pauses.len(), 1);

        let resumed = staff(
            &store,
            &world.handler_a,
            &suspended,
            Command::Resume {
                note: "评审完成".into(),
            },
            on("2026-11-30"),
        )
        .await;
        assert_eq!(resumed.facts.state, CaseState::Handling);
        assert_eq!(resumed.facts.paused_working_days, 2);
        // Without the closure 2 Dec / 23 Dec; without the pause 1 Dec / 22 Dec.
        assert_eq!(resumed.facts.promised_due, Some(date(2026, 12, 3)));
        assert_eq!(resumed.facts.statutory_due, Some(date(2026, 12, 24)));
        assert_eq!(store.case(open.id).await.unwrap(), resumed);
        let promised = deadline(&store, open.id, DeadlineKind::CasePromised).await;
        assert_eq!(promised.due, date(2026, 12, 3));
        assert_eq!(promised.state, DeadlineState::Running);
        let statutory = deadline(&store, open.id, DeadlineKind::CaseStatutory).await;
        assert_eq!(statutory.due, date(2026, 12, 24));
        assert_eq!(statutory.state, DeadlineState::Running);

        // Revoking the closure now moves the resumed case back by one day
        // only: the pause stays counted.
        let id = store.overrides().await.unwrap()[0].day.id;
        store
            .revoke_override(id, "预警解除", manager.id, on("2026-12-01"))
            .await
            .unwrap();
        let case = store.case(open.id).await.unwrap();
        assert_eq!(case.facts.promised_due, Some(date(2026, 12, 2)));
        assert_eq!(case.facts.statutory_due, Some(date(2026, 12, 23)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_decided_while_the_calendar_changes_is_decided_again() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        let case = submit_at(&store, world.item.id, now()).await;
        // The clerk's acceptance is decided on the calendar as it was; the
        // closure of the 25th is committed between that decision and its
        // write (as when an administrator saves the override at that moment).
        let fired = AtomicBool::new(false);
        let decide_store = store.clone();
        let clerk = world.clerk.actor();
        let admin_id = manager.id;
        let applied = store
            .apply_command(
                case.id,
                None,
                Who::Staff(world.clerk.id),
                None,
                now(),
                |context: &CaseContext| {
                    let calendar = decide_store.calendar_for(&context.region);
                    if !fired.swap(true, Ordering::SeqCst) {
                        let store = decide_store.clone();
                        tokio::task::block_in_place(|| {
                            tokio::runtime::Handle::current().block_on(async move {
                                store
                                    .add_override(
                                        closure("430423", closed_day(), CLOSURE_REASON),
                                        admin_id,
                                        now(),
                                    )
                                    .await
                                    .expect("add the override")
                            })
                        });
                    }
                    let command = accept();
                    let on_behalf_of = onewindow_core::case::authorize(
                        &clerk,
                        &command,
                        &context.case.facts,
                        &context.item.guide.steps,
                        context.case.department_id,
                        assignee_facts(&context.assignee),
                    )?;
                    let transition = onewindow_core::case::decide(
                        &context.case.facts,
                        &command,
                        &context.item.guide.rules(),
                        calendar.as_ref(),
                        now(),
                    )?;
                    Ok((transition, on_behalf_of))
                },
            )
            .await
            .unwrap();
        assert!(fired.load(Ordering::SeqCst));
        assert!(!store.calendar_for("430423").is_working_day(closed_day()));
        // The case and the index follow the calendar in force.
        let stored = store.case(case.id).await.unwrap();
        assert_eq!(stored, applied.case);
        assert_eq!(
            stored.facts.promised_due,
            Some(date(2026, 12, 1)),
            "accepted on a calendar that no longer holds"
        );
        assert_eq!(stored.facts.statutory_due, Some(date(2026, 12, 22)));
        assert_eq!(
            deadline(&store, case.id, DeadlineKind::CasePromised)
                .await
                .due,
            date(2026, 12, 1)
        );
        assert_eq!(
            deadline(&store, case.id, DeadlineKind::CaseStep).await.due,
            date(2026, 11, 26)
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 8. New shipped holiday data.

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_calendar_is_adopted_once_per_database() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let open = accepted_on(&store, &world, "2026-11-23").await;
        // The promised deadline as computed with older holiday data.
        sqlx::query(
            "UPDATE deadline_schedules SET due_on = '2026-11-27' WHERE id = \
             (SELECT schedule_id FROM object_deadlines WHERE object_kind = 'case_promised' AND object_id = $1)",
        )
        .bind(open.id)
        .execute(store.pool())
        .await
        .unwrap();

        let first = store.adopt_shipped_calendar(later(1)).await.unwrap();
        // The open deadlines: promised, statutory, step; the promised one moved.
        assert_eq!(first.as_ref().map(counts), Some(moved(3, 1)));
        assert_eq!(
            deadline(&store, open.id, DeadlineKind::CasePromised).await.due,
            date(2026, 11, 30)
        );
        let changes = store.case_deadline_changes(open.id).await.unwrap();
        assert_eq!(
            moves(&changes),
            [(DeadlineKind::CasePromised, date(2026, 11, 27), date(2026, 11, 30))]
        );
        assert!(changes[0].reason.contains("节假日数据更新"), "{changes:?}");
        assert!(changes[0].reason.contains("2026"), "{changes:?}");
        assert_eq!(changes[0].changed_at, later(1));
        assert_eq!(
            store.case(open.id).await.unwrap().facts.promised_due,
            Some(date(2026, 11, 30))
        );

        // Once adopted, the same data is not adopted again.
        assert_eq!(store.adopt_shipped_calendar(later(2)).await.unwrap(), None);
        assert_eq!(store.adopt_shipped_calendar(later(3)).await.unwrap(), None);
        assert_eq!(store.case_deadline_changes(open.id).await.unwrap().len(), 1);
        // Reloading the calendar changes nothing of that.
        store.load_calendar().await.unwrap();
        assert_eq!(store.adopt_shipped_calendar(later(4)).await.unwrap(), None);
    })
    .await;
}

// ---------------------------------------------------------------------------
// 9. A card's answer deadline.

#[tokio::test(flavor = "multi_thread")]
async fn a_closure_moves_a_cards_answer_deadline_and_the_card_records_the_change() {
    on_each_backend(|store| async move {
        let world = World::new(&store).await;
        let manager = calendar_admin(&store, &world).await;
        // Accepted Monday 23 November: promised 30 November. On Tuesday
        // 1 December the tick finds it overdue: a yellow card whose answer
        // is due 5 working days later, Tuesday 8 December.
        let open = accepted_on(&store, &world, "2026-11-23").await;
        store.supervise(on("2026-12-01"), &[]).await.unwrap();
        let (cards, _) = store
            .cards(&CardFilter {
                case_id: Some(open.id),
                ..CardFilter::default()
            })
            .await
            .unwrap();
        let yellow = cards.iter().find(|c| c.level == Level::Yellow).unwrap();
        let warning = cards.iter().find(|c| c.level == Level::Warning).unwrap();
        let answer = store.card_deadline(yellow.id).await.unwrap().unwrap();
        assert_eq!(answer.kind, DeadlineKind::CardRectification);
        assert_eq!(answer.object_id, yellow.id);
        assert_eq!(answer.deadline.start, date(2026, 12, 1));
        assert_eq!(answer.due, date(2026, 12, 8));
        assert_eq!(answer.state, DeadlineState::Running);
        assert_eq!(yellow.answer_due, Some(date(2026, 12, 8)));
        assert!(
            store
                .card_deadline_changes(yellow.id)
                .await
                .unwrap()
                .is_empty(),
            "nothing moved it yet"
        );
        // A warning asks for no answer by a day.
        assert_eq!(store.card_deadline(warning.id).await.unwrap(), None);

        // Thursday 3 December closed: the answer is due a day later.
        let applied = store
            .add_override(
                closure("", date(2026, 12, 3), CLOSURE_REASON),
                manager.id,
                later(1),
            )
            .await
            .unwrap();
        assert!(applied.recomputed.moved >= 2, "{:?}", applied.recomputed);
        let answer = store.card_deadline(yellow.id).await.unwrap().unwrap();
        assert_eq!(answer.due, date(2026, 12, 9));
        let changes = store.card_deadline_changes(yellow.id).await.unwrap();
        assert_eq!(
            moves(&changes),
            [(
                DeadlineKind::CardRectification,
                date(2026, 12, 8),
                date(2026, 12, 9)
            )]
        );
        assert_eq!(changes[0].deadline_id, answer.id);
        assert!(changes[0].reason.contains(CLOSURE_REASON), "{changes:?}");
        assert!(changes[0].reason.contains("2026-12-03"), "{changes:?}");
        assert_eq!(changes[0].changed_at, later(1));
        // The card's list shows the new day too.
        let (cards, _) = store
            .cards(&CardFilter {
                case_id: Some(open.id),
                ..CardFilter::default()
            })
            .await
            .unwrap();
        let listed = cards.iter().find(|c| c.id == yellow.id).unwrap();
        assert_eq!(listed.answer_due, Some(date(2026, 12, 9)));
        // The case's own changes are the case's: its statutory deadline
        // (21 December) moved, and the card's change is not among them,
        // whatever the ids of the two.
        let case_moves = moves(&store.case_deadline_changes(open.id).await.unwrap());
        assert!(
            case_moves
                .iter()
                .all(|(kind, _, _)| *kind != DeadlineKind::CardRectification),
            "{case_moves:?}"
        );
        assert!(case_moves.contains(&(
            DeadlineKind::CaseStatutory,
            date(2026, 12, 21),
            date(2026, 12, 22)
        )));

        // Answered, the deadline ends: a later closure no longer moves it,
        // and the change it had stays on record.
        store
            .act_on_card(
                yellow.id,
                &world.approver,
                CardCommand::Explain {
                    text: "已于12月2日办结".into(),
                },
                vec![],
                on("2026-12-04"),
            )
            .await
            .unwrap();
        store
            .add_override(
                closure("", date(2026, 12, 7), "线路检修，暂停办公"),
                manager.id,
                later(2),
            )
            .await
            .unwrap();
        let answer = store.card_deadline(yellow.id).await.unwrap().unwrap();
        assert_eq!(answer.state, DeadlineState::Ended);
        assert_eq!(answer.due, date(2026, 12, 9));
        assert_eq!(
            moves(&store.card_deadline_changes(yellow.id).await.unwrap()),
            [(
                DeadlineKind::CardRectification,
                date(2026, 12, 8),
                date(2026, 12, 9)
            )]
        );
    })
    .await;
}
