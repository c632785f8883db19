//! The staff's case list (`Store::case_list`) and the cards beside cases
//! (`Store::case_cards`), on SQLite and PostgreSQL, over a small history of
//! two departments (late 2026: weekends only, no holiday):
//!
//! - A: received Monday 2 November, accepted, completed Thursday the 5th.
//! - B: received Monday 23 November, accepted, still being handled: its
//!   promised limit (5 working days) is Monday the 30th, so it is overdue on
//!   Tuesday 1 December.
//! - C: received Tuesday the 24th, not yet accepted.
//! - D: the other department's, received the 24th an hour after C.
//! - E: received at 00:30 on Thursday the 26th in Shanghai, which is still
//!   the 25th in UTC: days are Shanghai days.

mod common;

use common::*;
use jiff::Timestamp;
use jiff::civil::date;
use onewindow_core::case::CaseState;
use onewindow_core::staff::Role;
use onewindow_core::supervision::Level;
use onewindow_store::Store;
use onewindow_store::cases::{CaseListFilter, ListedCase};

/// `hh:mm` in Shanghai on `day` (YYYY-MM-DD).
fn on_at(day: &str, hour: u8, minute: u8) -> Timestamp {
    at(&format!("{day}T{hour:02}:{minute:02}:00+08:00"))
}

async fn received(store: &Store, item_id: i64, when: Timestamp) -> i64 {
    store
        .submit_case(application(item_id), None, when)
        .await
        .expect("submit a case")
        .case
        .id
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

struct History {
    world: World,
    other_department: i64,
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
}

async fn history(store: &Store) -> History {
    let world = World::new(store).await;
    let housing = department(store, "ZJJ", "衡山县住房和城乡建设局").await;
    person(
        store,
        housing.id,
        "zjj_clerk",
        "窗口黄敏",
        &[Role::WindowClerk],
    )
    .await;
    let works = published_item(store, housing.id, guide("000999001000", "建筑工程施工许可")).await;

    let a = received(store, world.item.id, on_at("2026-11-02", 10, 0)).await;
    act_at(
        store,
        &world.clerk,
        a,
        None,
        accept(),
        on_at("2026-11-02", 11, 0),
    )
    .await
    .expect("accept A");
    complete(store, &world, a, on_at("2026-11-05", 15, 0)).await;

    let b = received(store, world.item.id, on_at("2026-11-23", 9, 0)).await;
    act_at(
        store,
        &world.clerk,
        b,
        None,
        accept(),
        on_at("2026-11-23", 10, 0),
    )
    .await
    .expect("accept B");

    let c = received(store, world.item.id, on_at("2026-11-24", 10, 0)).await;
    let d = received(store, works.id, on_at("2026-11-24", 11, 0)).await;
    let e = received(store, world.item.id, on_at("2026-11-26", 0, 30)).await;
    History {
        world,
        other_department: housing.id,
        a,
        b,
        c,
        d,
        e,
    }
}

async fn ids(store: &Store, filter: CaseListFilter) -> (Vec<i64>, i64) {
    let (cases, total) = store.case_list(&filter).await.expect("list cases");
    (cases.iter().map(|c| c.case.id).collect(), total)
}

#[tokio::test]
async fn the_list_is_newest_first_and_narrows_by_department_state_item_and_text() {
    for_each_backend(|store| async move {
        let h = history(&store).await;
        let (all, total) = ids(&store, CaseListFilter::default()).await;
        assert_eq!(all, vec![h.e, h.d, h.c, h.b, h.a], "newest first");
        assert_eq!(total, 5);

        let ours = CaseListFilter {
            department_id: Some(h.world.department.id),
            ..CaseListFilter::default()
        };
        assert_eq!(
            ids(&store, ours.clone()).await,
            (vec![h.e, h.c, h.b, h.a], 4)
        );
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    department_id: Some(h.other_department),
                    ..CaseListFilter::default()
                }
            )
            .await,
            (vec![h.d], 1)
        );

        // Submitted and not yet accepted: C and E of ours.
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    state: Some(CaseState::Submitted),
                    ..ours.clone()
                }
            )
            .await,
            (vec![h.e, h.c], 2)
        );
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    state: Some(CaseState::Completed),
                    ..CaseListFilter::default()
                }
            )
            .await,
            (vec![h.a], 1)
        );

        // The item by part of its name or code, in any case of letters.
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    item: Some(" 施工许可 ".into()),
                    ..CaseListFilter::default()
                }
            )
            .await,
            (vec![h.d], 1)
        );
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    item: Some("000117".into()),
                    ..CaseListFilter::default()
                }
            )
            .await
            .1,
            4
        );
        // Wildcards are taken literally.
        for literal in ["%", "_", "\\"] {
            assert_eq!(
                ids(
                    &store,
                    CaseListFilter {
                        item: Some(literal.into()),
                        ..CaseListFilter::default()
                    }
                )
                .await,
                (vec![], 0),
                "{literal}"
            );
        }

        // The case number, or the applicant.
        let (cases, _) = store
            .case_list(&CaseListFilter::default())
            .await
            .expect("list");
        let b: &ListedCase = cases.iter().find(|c| c.case.id == h.b).expect("B");
        assert_eq!(b.item_name, "食品经营许可（新办）");
        assert_eq!(b.department_name, "衡山县市场监督管理局");
        assert_eq!(b.completed_at, None);
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    text: Some(b.case.number.clone()),
                    ..CaseListFilter::default()
                }
            )
            .await,
            (vec![h.b], 1)
        );
        assert_eq!(
            ids(
                &store,
                CaseListFilter {
                    text: Some("张三".into()),
                    department_id: Some(h.other_department),
                    ..CaseListFilter::default()
                }
            )
            .await,
            (vec![h.d], 1)
        );
    })
    .await;
}

#[tokio::test]
async fn received_and_completed_ranges_are_shanghai_days_with_both_ends_included() {
    for_each_backend(|store| async move {
        let h = history(&store).await;
        let received = |from: Option<&str>, to: Option<&str>| CaseListFilter {
            received_from: from.map(|d| d.parse().unwrap()),
            received_to: to.map(|d| d.parse().unwrap()),
            ..CaseListFilter::default()
        };
        assert_eq!(
            ids(&store, received(Some("2026-11-24"), Some("2026-11-25"))).await,
            (vec![h.d, h.c], 2),
            "E came in after midnight in Shanghai"
        );
        assert_eq!(
            ids(&store, received(Some("2026-11-26"), None)).await,
            (vec![h.e], 1)
        );
        assert_eq!(
            ids(&store, received(None, Some("2026-11-23"))).await,
            (vec![h.b, h.a], 2)
        );
        assert_eq!(
            ids(&store, received(Some("2026-11-23"), Some("2026-11-23"))).await,
            (vec![h.b], 1),
            "one day"
        );
        assert_eq!(
            ids(&store, received(Some("2026-11-27"), Some("2026-11-24"))).await,
            (vec![], 0),
            "an empty range"
        );

        let completed = |from: &str, to: &str| CaseListFilter {
            completed_from: Some(from.parse().unwrap()),
            completed_to: Some(to.parse().unwrap()),
            ..CaseListFilter::default()
        };
        assert_eq!(
            ids(&store, completed("2026-11-05", "2026-11-05")).await,
            (vec![h.a], 1)
        );
        assert_eq!(
            ids(&store, completed("2026-11-01", "2026-11-30")).await,
            (vec![h.a], 1)
        );
        assert_eq!(
            ids(&store, completed("2026-11-06", "2026-12-31")).await,
            (vec![], 0)
        );
        let (cases, _) = store
            .case_list(&completed("2026-11-01", "2026-11-30"))
            .await
            .expect("list");
        assert_eq!(cases[0].completed_at, Some(on_at("2026-11-05", 15, 0)));
        assert_eq!(cases[0].case.facts.state, CaseState::Completed);

        // Received and completed together: A came in on the 2nd.
        let both = CaseListFilter {
            received_from: Some(date(2026, 11, 3)),
            ..completed("2026-11-01", "2026-11-30")
        };
        assert_eq!(ids(&store, both).await, (vec![], 0));
    })
    .await;
}

#[tokio::test]
async fn overdue_cases_are_those_past_their_promised_deadline_and_pages_add_up() {
    for_each_backend(|store| async move {
        let h = history(&store).await;
        let overdue_on = |day| CaseListFilter {
            overdue_on: Some(day),
            ..CaseListFilter::default()
        };
        // B's promised limit is Monday the 30th: due that day, overdue after.
        assert_eq!(
            ids(&store, overdue_on(date(2026, 11, 30))).await,
            (vec![], 0)
        );
        assert_eq!(
            ids(&store, overdue_on(date(2026, 12, 1))).await,
            (vec![h.b], 1)
        );
        // A was completed: its promised deadline ended.
        assert_eq!(
            ids(&store, overdue_on(date(2027, 6, 1))).await,
            (vec![h.b], 1)
        );

        let page = |offset| CaseListFilter {
            limit: 2,
            offset,
            ..CaseListFilter::default()
        };
        assert_eq!(ids(&store, page(0)).await, (vec![h.e, h.d], 5));
        assert_eq!(ids(&store, page(2)).await, (vec![h.c, h.b], 5));
        assert_eq!(ids(&store, page(4)).await, (vec![h.a], 5));
        assert_eq!(ids(&store, page(6)).await, (vec![], 5));
    })
    .await;
}

#[tokio::test]
async fn cards_are_counted_per_case_and_level() {
    for_each_backend(|store| async move {
        let h = history(&store).await;
        assert!(
            store
                .case_cards(&[h.a, h.b, h.c])
                .await
                .expect("cards")
                .is_empty()
        );
        assert!(store.case_cards(&[]).await.expect("no cases").is_empty());

        // Tuesday 1 December: B's promised limit passed.
        store
            .supervise(on_at("2026-12-01", 10, 0), &[])
            .await
            .expect("tick");
        let cards = store.case_cards(&[h.a, h.b]).await.expect("cards");
        assert!(cards.iter().all(|c| c.case_id == h.b), "{cards:?}");
        let yellow = cards
            .iter()
            .find(|c| c.level == Level::Yellow)
            .unwrap_or_else(|| panic!("B holds a yellow card: {cards:?}"));
        assert_eq!(yellow.count, 1);
        // In case and level order.
        let mut sorted = cards.clone();
        sorted.sort_by_key(|c| (c.case_id, c.level));
        assert_eq!(cards, sorted);

        // Many cases at once (more than one statement's worth).
        let many: Vec<i64> = (1..=1200).chain([h.b]).collect();
        let again = store.case_cards(&many).await.expect("cards");
        assert_eq!(again, cards);
    })
    .await;
}
