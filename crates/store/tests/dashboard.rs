//! The supervision dashboard's figures on a small history, on SQLite and
//! PostgreSQL. Late 2026 has no holiday, only weekends; promised limits are
//! 5 working days, the first step 2.
//!
//! - F: received Monday 2 November, accepted, yellow card on the 10th
//!   (promised limit the 9th passed), appealed and revoked, completed on the
//!   11th — on time, the card does not count.
//! - A: received 23 November, completed the 24th — on time.
//! - B: received 1 December, completed the 2nd — on time.
//! - C: received 1 December (promised the 8th), yellow card on the 9th,
//!   completed on the 10th (the dashboard's day) — late.
//! - E: received 2 December (promised the 9th), still open on the 10th —
//!   overdue.
//! - D: received on the 10th itself, not yet accepted.
//!
//! Ratings: A 满意 (4) on 25 November, B 非常满意 (5) on 3 December, C 非常不满意
//! (1) on the 10th.

mod common;

use common::*;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onewindow_core::card::{CardCommand, CardState};
use onewindow_core::rating::Rating;
use onewindow_core::staff::Role;
use onewindow_core::supervision::Level;
use onewindow_store::Store;
use onewindow_store::cards::CardFilter;
use onewindow_store::dashboard::{Dashboard, Figures};

/// `hh:00` in Shanghai on `day` (YYYY-MM-DD).
fn on_at(day: &str, hour: u8) -> Timestamp {
    at(&format!("{day}T{hour:02}:00:00+08:00"))
}

async fn received(store: &Store, world: &World, when: Timestamp) -> i64 {
    store
        .submit_case(application(world.item.id), None, when)
        .await
        .expect("submit a case")
        .case
        .id
}

async fn accepted(store: &Store, world: &World, when: Timestamp) -> i64 {
    let id = received(store, world, when).await;
    act_at(store, &world.clerk, id, None, accept(), when)
        .await
        .expect("accept");
    id
}

/// The applicant rates the finished case `case_id`.
async fn rate(store: &Store, case_id: i64, score: u8, when: Timestamp) {
    let number: String = sqlx::query_scalar("SELECT number FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(store.pool())
        .await
        .expect("the case number");
    store
        .rate_case(
            &number,
            &applicant().phone,
            Rating {
                score,
                comment: if score <= 2 {
                    "等待时间太长".into()
                } else {
                    String::new()
                },
            },
            when,
        )
        .await
        .expect("rate the case");
}

/// Every step, the decision and the delivery, all at `when`.
async fn complete(store: &Store, world: &World, case_id: i64, when: Timestamp) {
    for (who, command) in [
        (&world.handler_a, complete_step("拟同意")),
        (&world.reviewer, complete_step("同意")),
        (&world.approver, complete_step("同意")),
        (&world.approver, approve()),
        (&world.clerk, deliver()),
    ] {
        act_at(store, who, case_id, None, command, when)
            .await
            .expect("move the case on");
    }
}

/// Non-revoked cards of `level` found from `from` to `to`, by the card list.
async fn listed(store: &Store, level: Level, from: Date, to: Date) -> i64 {
    let (cards, _) = store
        .cards(&CardFilter {
            level: Some(level),
            from: Some(from),
            to: Some(to),
            limit: 500,
            ..CardFilter::default()
        })
        .await
        .expect("list cards");
    cards
        .iter()
        .filter(|c| c.state != CardState::Revoked)
        .count() as i64
}

#[tokio::test]
async fn figures_of_a_small_history_by_day_month_and_department() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let supervisor = person(
            &store,
            world.department.id,
            "jiancha",
            "监察吴敏",
            &[Role::Supervisor],
        )
        .await;

        // F: late, carded, the card revoked on appeal, then completed.
        let f = accepted(&store, &world, on_at("2026-11-02", 10)).await;
        store.supervise(on_at("2026-11-10", 10), &[]).await.unwrap();
        let (cards, _) = store
            .cards(&CardFilter {
                case_id: Some(f),
                level: Some(Level::Yellow),
                ..CardFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(cards.len(), 1, "{cards:?}");
        let yellow = &cards[0];
        assert_eq!(yellow.found_on, date(2026, 11, 10));
        store
            .act_on_card(
                yellow.id,
                &world.approver,
                CardCommand::Appeal {
                    reasons: "申请人要求延期现场核查".into(),
                },
                vec![],
                on_at("2026-11-10", 11),
            )
            .await
            .unwrap();
        let revoked = store
            .act_on_card(
                yellow.id,
                &supervisor,
                CardCommand::Revoke {
                    reasons: "经核实延误不属部门责任".into(),
                },
                vec![],
                on_at("2026-11-10", 15),
            )
            .await
            .unwrap();
        assert_eq!(revoked.state, CardState::Revoked);
        complete(&store, &world, f, on_at("2026-11-11", 10)).await;

        // A: on time in November.
        let a = accepted(&store, &world, on_at("2026-11-23", 10)).await;
        complete(&store, &world, a, on_at("2026-11-24", 10)).await;
        rate(&store, a, 4, on_at("2026-11-25", 10)).await;

        // B: on time in December; C and E accepted, left open.
        let b = accepted(&store, &world, on_at("2026-12-01", 10)).await;
        complete(&store, &world, b, on_at("2026-12-02", 10)).await;
        rate(&store, b, 5, on_at("2026-12-03", 10)).await;
        let c = accepted(&store, &world, on_at("2026-12-01", 11)).await;
        let _e = accepted(&store, &world, on_at("2026-12-02", 10)).await;

        // The 9th: C's promised limit (the 8th) passed — a yellow card.
        store.supervise(on_at("2026-12-09", 10), &[]).await.unwrap();
        let (cards, _) = store
            .cards(&CardFilter {
                case_id: Some(c),
                level: Some(Level::Yellow),
                ..CardFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(cards.len(), 1, "C has its yellow card: {cards:?}");

        // The 10th: C completed late, D received.
        complete(&store, &world, c, on_at("2026-12-10", 9)).await;
        rate(&store, c, 1, on_at("2026-12-10", 11)).await;
        let _d = received(&store, &world, on_at("2026-12-10", 8)).await;

        let day = date(2026, 12, 10);
        let board: Dashboard = store.dashboard(day).await.unwrap();
        assert_eq!(board.date, day);
        assert_eq!(board.month_start, date(2026, 12, 1));
        assert_eq!(board.year_start, date(2026, 1, 1));
        assert_eq!(board.month_starts.len(), 12);

        let dec_warnings = listed(&store, Level::Warning, date(2026, 12, 1), day).await;
        let nov_warnings = listed(
            &store,
            Level::Warning,
            date(2026, 11, 1),
            date(2026, 11, 30),
        )
        .await;
        assert!(dec_warnings > 0, "the steps of C and E overran");
        assert!(nov_warnings > 0, "F's step overran");

        assert_eq!(
            board.today(),
            Figures {
                received: 1,
                completed: 1,
                completed_on_time: 0,
                warnings: 0,
                yellow: 0,
                red: 0,
                rated: 1,
                satisfied: 0,
            },
            "today: D received, C completed late and rated poorly"
        );
        assert_eq!(
            board.month(),
            Figures {
                received: 4,
                completed: 2,
                completed_on_time: 1,
                warnings: dec_warnings,
                yellow: 1,
                red: 0,
                rated: 2,
                satisfied: 1,
            },
            "December: B, C, D, E received; B on time, C late"
        );
        assert_eq!(board.month().on_time_rate(), Some(50.0));
        assert_eq!(board.month().satisfaction_rate(), Some(50.0));
        let months = board.months();
        assert_eq!(
            months[10],
            Figures {
                received: 2,
                completed: 2,
                completed_on_time: 2,
                warnings: nov_warnings,
                yellow: 0,
                red: 0,
                rated: 1,
                satisfied: 1,
            },
            "November: the revoked yellow card does not count, F is on time"
        );
        assert_eq!(months[11], board.month());
        assert!(months[..10].iter().all(|m| *m == Figures::default()));
        assert_eq!(board.overdue(), 1, "E is open past its promised day");

        // One department, holding it all; the supervisor's centre is the same one.
        let ours = board
            .departments
            .iter()
            .find(|d| d.department_id == world.department.id)
            .unwrap();
        assert_eq!(ours.department_name, "衡山县市场监督管理局");
        assert_eq!(ours.month, board.month());
        assert_eq!(ours.year.received, 6);
        assert_eq!(ours.year.completed, 4);
        assert_eq!(ours.year.completed_on_time, 3);
        assert!(ours.is_active());

        // A day in November sees nothing of December.
        let november = store.dashboard(date(2026, 11, 30)).await.unwrap();
        assert_eq!(november.month(), months[10]);
        assert_eq!(november.today(), Figures::default());
        assert_eq!(november.months().len(), 12);
        assert_eq!(november.months()[11], months[10]);
    })
    .await;
}
