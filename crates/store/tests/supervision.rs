//! The supervision tick and the cards it issues, on SQLite and PostgreSQL.
//!
//! The case is accepted on Monday 23 November 2026 (no holiday in late 2026
//! but weekends): its first step (2 working days) is due Wednesday the 25th,
//! its promised limit (5 working days) Monday the 30th, its statutory limit
//! (20 working days) Monday 21 December.

mod common;

use common::*;
use jiff::Timestamp;
use jiff::civil::date;
use onewindow_core::calendar::{LimitUnit, OverrideKind, TimeLimit};
use onewindow_core::card::{CardCommand, CardState, Responsibility, Sanction};
use onewindow_core::staff::Role;
use onewindow_core::supervision::{Channel, Level, SupervisionRules};
use onewindow_store::cards::{CardFilter, NewAccountability};
use onewindow_store::clock::NewOverride;
use onewindow_store::{Store, StoreError};

/// 10:00 in Shanghai on `day` (YYYY-MM-DD).
fn on(day: &str) -> Timestamp {
    at(&format!("{day}T02:00:00Z"))
}

async fn accepted_case(store: &Store, world: &World) -> i64 {
    let case = submit(store, world.item.id).await;
    act(store, &world.clerk, &case, accept())
        .await
        .expect("accept")
        .case
        .id
}

async fn cards_of(store: &Store, case_id: i64) -> Vec<(String, Level, CardState)> {
    let (cards, _) = store
        .cards(&CardFilter {
            case_id: Some(case_id),
            ..CardFilter::default()
        })
        .await
        .expect("list cards");
    let mut cards: Vec<_> = cards
        .into_iter()
        .map(|c| (c.condition, c.level, c.state))
        .collect();
    cards.sort_by(|a, b| a.0.cmp(&b.0));
    cards
}

#[tokio::test]
async fn each_breach_is_carded_once_from_warning_to_yellow_and_red() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case_id = accepted_case(&store, &world).await;

        // Nothing is due on the day of acceptance.
        let report = store.supervise(on("2026-11-23"), &[]).await.unwrap();
        assert_eq!(report.issued_total(), 0, "{report:?}");

        // Thursday: the step (due Wednesday) overran; the promised deadline
        // (Monday) is two working days away.
        let report = store.supervise(on("2026-11-26"), &[]).await.unwrap();
        assert_eq!(report.issued_total(), 2, "{report:?}");
        let again = store.supervise(on("2026-11-26"), &[]).await.unwrap();
        assert_eq!(again.issued_total(), 0, "a second tick issues nothing");
        assert_eq!(
            again.examined, 0,
            "and reads nothing: the next checks moved on"
        );

        // Tuesday 1 December: the promised limit passed — a yellow card.
        store.supervise(on("2026-12-01"), &[]).await.unwrap();
        store.supervise(on("2026-12-01"), &[]).await.unwrap();
        // 22 December: the statutory limit passed — a red card.
        store.supervise(on("2026-12-22"), &[]).await.unwrap();
        let cards = cards_of(&store, case_id).await;
        let conditions: Vec<(&str, Level)> = cards.iter().map(|c| (c.0.as_str(), c.1)).collect();
        assert_eq!(
            conditions,
            vec![
                ("due_soon:case_promised", Level::Warning),
                // The yellow card went unanswered past its 5 working days.
                ("overdue:card_rectification", Level::Warning),
                ("overdue:case_promised", Level::Yellow),
                ("overdue:case_statutory", Level::Red),
                ("overdue:case_step:2026-11-23", Level::Warning),
            ]
        );

        // The handler, their B, the reviewer and the approver are told of
        // the yellow card in the workbench.
        for person in [
            &world.handler_a,
            &world.handler_b,
            &world.reviewer,
            &world.approver,
        ] {
            let notices = store.notices(person.id, 50).await.unwrap();
            assert!(
                notices.iter().any(|n| n.title.contains("黄牌")
                    && n.body.contains("承诺办结时限")
                    && n.body.contains("衡山县市场监督管理局")),
                "{}: {notices:?}",
                person.name
            );
        }
        // The clerk is not: the case is not at the window.
        assert!(store.notices(world.clerk.id, 50).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_completed_case_is_not_carded_and_a_tick_past_its_deadline_finds_nothing() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.handler_a, &case, complete_step("拟同意"))
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.reviewer, &case, complete_step("同意"))
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.approver, &case, complete_step("同意"))
            .await
            .unwrap()
            .case;
        act(&store, &world.approver, &case, approve())
            .await
            .unwrap();
        let report = store.supervise(on("2026-12-22"), &[]).await.unwrap();
        // Only the delivery deadline (10 working days after the decision,
        // 7 December) is still open: it passed, a yellow card.
        assert_eq!(
            cards_of(&store, case.id)
                .await
                .iter()
                .map(|c| c.0.as_str())
                .collect::<Vec<_>>(),
            vec!["overdue:case_delivery"],
            "{report:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn alerts_go_to_the_outbox_with_the_card_and_the_card_is_notified_when_read() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case_id = accepted_case(&store, &world).await;
        sqlx::query("UPDATE staff SET email = 'li.ming@hengshan.gov.cn' WHERE id = $1")
            .bind(world.handler_a.id)
            .execute(store.pool())
            .await
            .unwrap();
        let report = store
            .supervise(
                on("2026-12-01"),
                &[
                    Channel::InApp,
                    Channel::Email,
                    Channel::Webhook,
                    Channel::Sms,
                ],
            )
            .await
            .unwrap();
        // Two cards (step overrun warning, promised yellow); the warning's
        // recipients are A and B, the yellow card's A, B, reviewer, approver.
        assert_eq!(report.issued_total(), 2, "{report:?}");
        let messages = store.messages(None, 100).await.unwrap();
        let emails: Vec<_> = messages
            .iter()
            .filter(|m| m.channel == Channel::Email)
            .collect();
        assert_eq!(emails.len(), 2, "one e-mail per card to the only address");
        assert!(
            emails
                .iter()
                .all(|m| m.address == "li.ming@hengshan.gov.cn" && m.state == "pending")
        );
        let webhooks = messages
            .iter()
            .filter(|m| m.channel == Channel::Webhook)
            .count();
        assert_eq!(webhooks, 2, "one webhook message per card");
        let sms = messages
            .iter()
            .filter(|m| m.channel == Channel::Sms)
            .count();
        assert_eq!(sms, 2 + 4, "a text to everyone alerted who has a phone");
        let ids: std::collections::HashSet<_> = messages.iter().map(|m| &m.message_id).collect();
        assert_eq!(ids.len(), messages.len(), "message ids are unique");

        // The approver reads the notice of the yellow card: it is notified.
        let notice = store
            .notices(world.approver.id, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.title.contains("黄牌"))
            .expect("the approver's notice");
        store
            .read_notice(world.approver.id, notice.id, on("2026-12-01"))
            .await
            .unwrap();
        let card = store.card(notice.card_id.unwrap()).await.unwrap();
        assert_eq!(card.state, CardState::Notified);
        assert_eq!(card.case_id, Some(case_id));
        // Someone else's notice cannot be read by another person.
        let err = store
            .read_notice(world.clerk.id, notice.id, on("2026-12-01"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn the_outbox_retries_with_backoff_and_leaves_a_message_failed_for_a_resend() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        accepted_case(&store, &world).await;
        store
            .supervise(on("2026-12-01"), &[Channel::Webhook])
            .await
            .unwrap();
        let lease = jiff::SignedDuration::from_secs(60);
        let mut now = on("2026-12-01");
        let claimed = store.claim_messages(now, 10, lease).await.unwrap();
        assert_eq!(claimed.len(), 2);
        // Claimed messages are not handed out twice while leased.
        assert!(
            store
                .claim_messages(now, 10, lease)
                .await
                .unwrap()
                .is_empty()
        );
        let first = claimed[0].id;
        store.message_sent(claimed[1].id, now).await.unwrap();
        for attempt in 1..=onewindow_store::outbox::MAX_ATTEMPTS {
            store
                .message_failed(first, "connection refused", now)
                .await
                .unwrap();
            now += onewindow_store::outbox::backoff(attempt);
            let again = store.claim_messages(now, 10, lease).await.unwrap();
            if attempt < onewindow_store::outbox::MAX_ATTEMPTS {
                assert_eq!(again.len(), 1, "retried after attempt {attempt}");
            } else {
                assert!(again.is_empty(), "no attempt after the last");
            }
        }
        let failed = store.messages(Some("failed"), 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error.as_deref(), Some("connection refused"));
        let resent = store
            .resend_message(world.approver.id, first, now)
            .await
            .unwrap();
        assert_eq!((resent.state.as_str(), resent.attempts), ("pending", 0));
        assert_eq!(store.claim_messages(now, 10, lease).await.unwrap().len(), 1);
        // A sent message is not re-sent.
        let err = store
            .resend_message(world.approver.id, claimed[1].id, now)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_card_is_explained_closed_appealed_once_and_revoked_cards_stop_counting() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        accepted_case(&store, &world).await;
        let supervisor = person(
            &store,
            world.department.id,
            "jiancha",
            "监察吴敏",
            &[Role::Supervisor],
        )
        .await;
        store.supervise(on("2026-12-22"), &[]).await.unwrap();
        let (cards, _) = store.cards(&CardFilter::default()).await.unwrap();
        let yellow = cards.iter().find(|c| c.level == Level::Yellow).unwrap();
        let red = cards.iter().find(|c| c.level == Level::Red).unwrap();
        assert!(
            yellow.answer_due.is_some(),
            "the department has a deadline to answer"
        );

        // The supervisor cannot close a card nobody answered, nor without a conclusion.
        let close = |text: &str| CardCommand::Close {
            conclusion: text.into(),
        };
        let now = on("2026-12-22");
        let err = store
            .act_on_card(yellow.id, &supervisor, close("已办结"), vec![], now)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
        let explained = store
            .act_on_card(
                yellow.id,
                &world.approver,
                CardCommand::Explain {
                    text: "因申请人现场核查时间调整，延误2个工作日".into(),
                },
                vec![],
                now,
            )
            .await
            .unwrap();
        assert_eq!(explained.state, CardState::Explained);
        let err = store
            .act_on_card(yellow.id, &supervisor, close(" "), vec![], now)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.field() == Some("conclusion")),
            "{err:?}"
        );
        let closed = store
            .act_on_card(
                yellow.id,
                &supervisor,
                close("说明属实，予以办结"),
                vec![],
                now,
            )
            .await
            .unwrap();
        assert_eq!(closed.state, CardState::Closed);
        // A clerk of another department cannot answer; the supervisor cannot answer.
        let err = store
            .act_on_card(
                red.id,
                &supervisor,
                CardCommand::Rectify {
                    text: "整改".into(),
                },
                vec![],
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");

        // The red card: appealed once, revoked; it stays, but does not count.
        let appeal = CardCommand::Appeal {
            reasons: "系统故障导致办结信息未及时回传".into(),
        };
        store
            .act_on_card(red.id, &world.approver, appeal.clone(), vec![], now)
            .await
            .unwrap();
        let revoked = store
            .act_on_card(
                red.id,
                &supervisor,
                CardCommand::Revoke {
                    reasons: "经核实系系统故障".into(),
                },
                vec![],
                now,
            )
            .await
            .unwrap();
        assert_eq!(revoked.state, CardState::Revoked);
        let err = store
            .act_on_card(red.id, &world.approver, appeal, vec![], now)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
        let figures = store
            .department_figures(jiff::civil::date(2026, 12, 22))
            .await
            .unwrap();
        let ours = figures
            .iter()
            .find(|f| f.department_id == world.department.id)
            .unwrap();
        assert_eq!((ours.yellow, ours.red, ours.overdue), (1, 0, 1), "{ours:?}");
        let events = store.card_events(red.id).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            vec!["issue", "appeal", "revoke"]
        );

        // Accountability on the closed yellow card: the handler, graded.
        let record = store
            .record_accountability(
                &supervisor,
                NewAccountability {
                    person_id: world.handler_a.id,
                    responsibility: Responsibility::Direct,
                    sanction: Sanction::Admonition,
                    basis: "办件超承诺时限，依据效能建设问责办法第五条".into(),
                    card_id: Some(yellow.id),
                    case_id: yellow.case_id,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(record.person_name, world.handler_a.name);
        let err = store
            .record_accountability(
                &world.approver,
                NewAccountability {
                    person_id: world.handler_a.id,
                    responsibility: Responsibility::Direct,
                    sanction: Sanction::Warning,
                    basis: "x".into(),
                    card_id: Some(yellow.id),
                    case_id: None,
                },
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
        let err = store
            .record_accountability(
                &supervisor,
                NewAccountability {
                    person_id: world.handler_a.id,
                    responsibility: Responsibility::Direct,
                    sanction: Sanction::Warning,
                    basis: "x".into(),
                    card_id: Some(red.id),
                    case_id: None,
                },
                now,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.field() == Some("card_id")),
            "a revoked card is no basis: {err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unanswered_card_is_itself_watched_and_settings_are_validated_and_audited() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        accepted_case(&store, &world).await;
        let supervisor = person(
            &store,
            world.department.id,
            "jiancha",
            "监察吴敏",
            &[Role::Supervisor],
        )
        .await;
        let mut rules = SupervisionRules {
            rectification_days: 0,
            ..SupervisionRules::default()
        };
        let err = store
            .set_supervision_rules(supervisor.id, rules.clone(), now())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.field() == Some("rectification_days")),
            "{err:?}"
        );
        rules.rectification_days = 3;
        let before = audit_entry_count(&store).await;
        store
            .set_supervision_rules(supervisor.id, rules, now())
            .await
            .unwrap();
        assert_eq!(audit_entry_count(&store).await, before + 1);
        assert_eq!(
            store.supervision_rules().await.unwrap().rectification_days,
            3
        );

        // The yellow card of 1 December is to be answered within 3 working
        // days (by Friday the 4th); unanswered on Monday the 7th, the
        // department gets a warning about the card itself.
        store.supervise(on("2026-12-01"), &[]).await.unwrap();
        let report = store.supervise(on("2026-12-07"), &[]).await.unwrap();
        let (cards, _) = store.cards(&CardFilter::default()).await.unwrap();
        let about_card = cards
            .iter()
            .find(|c| c.subject_kind == "card")
            .unwrap_or_else(|| panic!("a card about the unanswered card: {report:?} {cards:?}"));
        assert_eq!(about_card.condition, "overdue:card_rectification");
        assert_eq!(about_card.level, Level::Warning);
    })
    .await;
}

#[tokio::test]
async fn fees_outside_the_catalog_and_refusals_without_reasons_are_carded_from_the_record() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let case = act(&store, &world.clerk, &case, accept()).await.unwrap().case;
        let case = act(&store, &world.handler_a, &case, complete_step("拟同意"))
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.reviewer, &case, complete_step("同意"))
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.approver, &case, complete_step("同意"))
            .await
            .unwrap()
            .case;
        let case = act(&store, &world.approver, &case, approve())
            .await
            .unwrap()
            .case;
        // The item charges nothing; the window charged a fee.
        act(
            &store,
            &world.clerk,
            &case,
            onewindow_core::case::Command::Deliver {
                method: "窗口领取".into(),
                fees: vec![onewindow_core::case::FeeCharged {
                    name: "加急费".into(),
                    amount_fen: 5000,
                }],
            },
        )
        .await
        .unwrap();
        // A refusal without reasons that came in from outside the state
        // machine (an import, a repair by hand).
        let other = submit(&store, world.item.id).await;
        sqlx::query(
            "INSERT INTO case_events (case_id, action, from_state, to_state, at, detail) \
             VALUES ($1, 'reject', 'submitted', 'rejected', $2, '{\"reasons\": \"\", \"rights_notice\": \"\"}')",
        )
        .bind(other.id)
        .bind(now().as_microsecond())
        .execute(store.pool())
        .await
        .unwrap();

        let report = store.supervise(later(2), &[]).await.unwrap();
        let fee = cards_of(&store, case.id).await;
        assert!(
            fee.iter()
                .any(|c| c.0.starts_with("anomaly:fee_not_in_catalog:") && c.1 == Level::Red),
            "{fee:?} {report:?}"
        );
        let refusal = cards_of(&store, other.id).await;
        assert_eq!(refusal.len(), 1, "{refusal:?}");
        assert!(refusal[0].0.starts_with("anomaly:refusal_without_reasons:"));
        assert_eq!(refusal[0].1, Level::Red);
        // The approvers of the department are told (nobody holds the case).
        let notices = store.notices(world.approver.id, 50).await.unwrap();
        assert!(
            notices.iter().any(|n| n.title.contains("收取目录外费用")
                && n.body.contains("加急费")
                && n.body.contains("50.00元")),
            "{notices:?}"
        );
        // The events are read once.
        let again = store.supervise(later(3), &[]).await.unwrap();
        assert_eq!(again.issued_total(), 0, "{again:?}");
    })
    .await;
}

#[tokio::test]
async fn a_decision_dated_before_the_case_was_registered_is_carded_as_handled_outside() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let mut case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        for person in [&world.handler_a, &world.reviewer, &world.approver] {
            case = act(&store, person, &case, complete_step("同意"))
                .await
                .unwrap()
                .case;
        }
        let decide = |on: jiff::civil::Date| onewindow_core::case::Command::Decide {
            outcome: onewindow_core::case::Outcome::Approve,
            opinion: "准予许可".into(),
            reasons: String::new(),
            rights_notice: String::new(),
            decided_on: Some(on),
        };
        // A decision cannot be dated after today.
        let err = act(
            &store,
            &world.approver,
            &case,
            decide(jiff::civil::date(2026, 11, 24)),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.field() == Some("decided_on")),
            "{err:?}"
        );
        // The paper decision of 20 November, registered on the 23rd.
        act(
            &store,
            &world.approver,
            &case,
            decide(jiff::civil::date(2026, 11, 20)),
        )
        .await
        .unwrap();
        store.supervise(later(1), &[]).await.unwrap();
        let cards = cards_of(&store, case.id).await;
        assert!(
            cards
                .iter()
                .any(|c| c.0.starts_with("anomaly:off_system:") && c.1 == Level::Red),
            "{cards:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_finished_case_is_rated_once_and_a_poor_rating_earns_the_department_a_card() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let rating = |score: u8, comment: &str| onewindow_core::rating::Rating {
            score,
            comment: comment.into(),
        };
        let phone = applicant().phone;
        // Not before it is finished.
        let err = store
            .rate_case(&case.number, &phone, rating(5, ""), later(1))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
        let mut case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        for person in [&world.handler_a, &world.reviewer, &world.approver] {
            case = act(&store, person, &case, complete_step("同意"))
                .await
                .unwrap()
                .case;
        }
        let case = act(&store, &world.approver, &case, approve())
            .await
            .unwrap()
            .case;
        act(&store, &world.clerk, &case, deliver()).await.unwrap();
        // A poor grade must say why; a wrong phone reads as an unknown case.
        let err = store
            .rate_case(&case.number, &phone, rating(1, " "), later(2))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.field() == Some("comment")),
            "{err:?}"
        );
        let err = store
            .rate_case(&case.number, "13900000000", rating(5, ""), later(2))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
        let rated = store
            .rate_case(
                &case.number,
                &phone,
                rating(2, "窗口让我跑了两趟"),
                later(2),
            )
            .await
            .unwrap();
        assert_eq!(rated.label, "不满意");
        let err = store
            .rate_case(&case.number, &phone, rating(5, ""), later(3))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Domain(_)), "rated once: {err:?}");
        assert_eq!(store.rating(case.id).await.unwrap().unwrap().score, 2);
        let events = store.case_events(case.id).await.unwrap();
        assert_eq!(events.last().unwrap().action, "rate");

        store.supervise(later(4), &[]).await.unwrap();
        let cards = cards_of(&store, case.id).await;
        assert!(
            cards
                .iter()
                .any(|c| c.0.starts_with("anomaly:poor_rating:") && c.1 == Level::Yellow),
            "{cards:?}"
        );
    })
    .await;
}

/// A day a calendar change counts anew, by an admin on `at` for every region.
async fn change_calendar(
    store: &Store,
    world: &World,
    day: jiff::civil::Date,
    kind: OverrideKind,
    at: &str,
) {
    let admin = person(
        store,
        world.department.id,
        "calendar_admin",
        "日历管理周敏",
        &[Role::Admin],
    )
    .await;
    store
        .add_override(
            NewOverride {
                region: String::new(),
                date: day,
                kind,
                reason: "县政府通知调整办公日".into(),
            },
            admin.id,
            on(at),
        )
        .await
        .expect("the override is applied");
}

/// A day closed inside a period counted in natural days leaves its due day
/// (Monday 30 November, 7 natural days from the 23rd) but brings its warning
/// (two working days before) from Thursday to Wednesday: the tick warns on
/// Wednesday. The closure moves the working-day case's due day later, and
/// that case is warned on the new day, not before.
#[tokio::test]
async fn a_closure_brings_the_warning_of_a_natural_day_period_earlier() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let natural = published_item(
            &store,
            world.department.id,
            onewindow_core::catalog::Guide {
                promised_limit: TimeLimit {
                    amount: 7,
                    unit: LimitUnit::NaturalDays,
                },
                ..guide("000117002000", "食品经营许可（变更）")
            },
        )
        .await;
        let counted_in_working_days = accepted_case(&store, &world).await;
        let case = submit(&store, natural.id).await;
        let counted_in_natural_days = act(&store, &world.clerk, &case, accept())
            .await
            .expect("accept")
            .case
            .id;
        let report = store.supervise(on("2026-11-23"), &[]).await.unwrap();
        assert_eq!(report.issued_total(), 0, "{report:?}");

        change_calendar(
            &store,
            &world,
            date(2026, 11, 27),
            OverrideKind::Closure,
            "2026-11-24",
        )
        .await;
        store.supervise(on("2026-11-25"), &[]).await.unwrap();
        assert_eq!(
            cards_of(&store, counted_in_natural_days).await,
            vec![(
                "due_soon:case_promised".to_string(),
                Level::Warning,
                CardState::Issued
            )]
        );
        assert_eq!(cards_of(&store, counted_in_working_days).await, vec![]);

        // Due Tuesday 1 December now: two working days remain from Thursday.
        store.supervise(on("2026-11-26"), &[]).await.unwrap();
        let cards = cards_of(&store, counted_in_working_days).await;
        assert!(
            cards.iter().any(|c| c.0 == "due_soon:case_promised"),
            "{cards:?}"
        );
    })
    .await;
}

/// An extra working day on Saturday 28 November brings the promised due day
/// from Monday 30 to that Saturday: the yellow card comes on Sunday the 29th,
/// though the tick that warned on Thursday had set the next check for the
/// old overdue day.
#[tokio::test]
async fn an_extra_working_day_brings_the_yellow_card_earlier() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case_id = accepted_case(&store, &world).await;
        store.supervise(on("2026-11-26"), &[]).await.unwrap();
        change_calendar(
            &store,
            &world,
            date(2026, 11, 28),
            OverrideKind::Workday,
            "2026-11-27",
        )
        .await;
        store.supervise(on("2026-11-29"), &[]).await.unwrap();
        let cards = cards_of(&store, case_id).await;
        assert!(
            cards
                .iter()
                .any(|c| c.0 == "overdue:case_promised" && c.1 == Level::Yellow),
            "{cards:?}"
        );
    })
    .await;
}
