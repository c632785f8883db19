//! Cases: submission and numbering, the lifecycle through the core state
//! machine, work queues with A/B backups, refusals, version checks,
//! idempotency, materials and concurrency.

mod common;

use std::collections::BTreeSet;

use common::*;
use jiff::civil::date;
use onewindow_core::DomainError;
use onewindow_core::audit::sm3_hex;
use onewindow_core::case::{Action, CaseState, Channel, Command, Outcome};
use onewindow_core::catalog::ItemStatus;
use onewindow_core::staff::Role;
use onewindow_store::StoreError;
use onewindow_store::cases::{CaseFilter, Who};
use onewindow_store::idempotency::IdempotencyKey;

fn key(key: &str, request_hash: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey {
        scope: "public".into(),
        key: key.into(),
        request_hash: request_hash.into(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_application_for_a_draft_item_is_refused() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let draft = store
            .create_item(
                admin(),
                world.department.id,
                guide("0002", "草稿事项"),
                now(),
            )
            .await
            .unwrap();
        let refused = store.submit_case(application(draft.id), None, now()).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Domain(DomainError::ItemNotPublished))
            ),
            "{refused:?}"
        );
        // A suspended item takes no applications either.
        store
            .set_item_status(admin(), world.item.id, ItemStatus::Suspended, now())
            .await
            .unwrap();
        let refused = store
            .submit_case(application(world.item.id), None, now())
            .await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Domain(DomainError::ItemNotPublished))
            ),
            "{refused:?}"
        );
        let unknown = store
            .submit_case(application(draft.id + 100), None, now())
            .await;
        assert!(matches!(
            unknown,
            Err(StoreError::Domain(DomainError::Invalid(_)))
        ));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 0);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM counters").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn case_numbers_run_per_region_and_day_in_shanghai_time() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let first = submit(&store, world.item.id).await;
        assert_eq!(first.number, "430423-20261123-00001");
        assert_eq!(first.facts.state, CaseState::Submitted);
        assert_eq!(first.facts.received_on, date(2026, 11, 23));
        assert_eq!(first.version, 1);
        assert_eq!(first.submitted_at, now());
        assert_eq!(first.applicant, applicant());
        assert_eq!(first.department_id, world.department.id);
        assert_eq!(first.assignee_id, None);
        let second = submit(&store, world.item.id).await;
        assert_eq!(second.number, "430423-20261123-00002");
        // 17:00 UTC is 01:00 the next day in Shanghai: a new day, a new run.
        let next_day = store
            .submit_case(application(world.item.id), None, at("2026-11-23T17:00:00Z"))
            .await
            .unwrap()
            .case;
        assert_eq!(next_day.number, "430423-20261124-00001");
        assert_eq!(next_day.facts.received_on, date(2026, 11, 24));
        let same_day = store
            .submit_case(application(world.item.id), None, at("2026-11-23T15:59:59Z"))
            .await
            .unwrap()
            .case;
        assert_eq!(same_day.number, "430423-20261123-00003");

        assert_eq!(store.case(first.id).await.unwrap(), first);
        assert_eq!(store.case_by_number(&first.number).await.unwrap(), first);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_is_looked_up_by_its_number_and_the_applicants_phone_only() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        assert_eq!(
            store
                .lookup_case(&case.number, " 13807341234 ")
                .await
                .unwrap(),
            case
        );
        let wrong_phone = store.lookup_case(&case.number, "13900000000").await;
        assert!(
            matches!(wrong_phone, Err(StoreError::NotFound { .. })),
            "{wrong_phone:?}"
        );
        let wrong_number = store
            .lookup_case("430423-20261123-09999", "13807341234")
            .await;
        assert!(matches!(wrong_number, Err(StoreError::NotFound { .. })));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_applications_name_the_field_and_write_nothing() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let mut bad_phone = application(world.item.id);
        bad_phone.applicant.phone = "12345".into();
        let refused = store.submit_case(bad_phone, None, now()).await.unwrap_err();
        assert!(
            matches!(&refused, StoreError::Domain(e) if e.field() == Some("applicant.phone")),
            "{refused:?}"
        );
        let mut bad_form = application(world.item.id);
        bad_form.form = serde_json::json!(["not", "an", "object"]);
        let refused = store.submit_case(bad_form, None, now()).await.unwrap_err();
        assert!(matches!(&refused, StoreError::Domain(e) if e.field() == Some("form")));
        // Registering at the window needs a window clerk.
        let mut by_handler = application(world.item.id);
        by_handler.channel = Channel::Window;
        by_handler.registered_by = Some(world.handler_a.id);
        let refused = store
            .submit_case(by_handler, None, now())
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                StoreError::Domain(DomainError::RoleRequired { .. })
            ),
            "{refused:?}"
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 0);

        let mut by_clerk = application(world.item.id);
        by_clerk.channel = Channel::Window;
        by_clerk.registered_by = Some(world.clerk.id);
        let applied = store.submit_case(by_clerk, None, now()).await.unwrap();
        assert_eq!(applied.case.channel, Channel::Window);
        assert_eq!(applied.event.actor_id, Some(world.clerk.id));
        assert_eq!(applied.event.actor_name.as_deref(), Some("窗口王芳"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_goes_from_acceptance_through_three_steps_to_completion() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let submitted = store
            .submit_case(application(world.item.id), None, now())
            .await
            .unwrap();
        assert_eq!(submitted.event.action, "submit");
        assert_eq!(submitted.event.actor_id, None);
        let case = submitted.case;

        let accepted = act(&store, &world.clerk, &case, accept()).await.unwrap();
        let case = accepted.case;
        assert_eq!(case.facts.state, CaseState::Handling);
        assert_eq!(case.version, 2);
        assert_eq!(case.facts.clock_start, Some(date(2026, 11, 23)));
        assert_eq!(case.facts.promised_due, Some(date(2026, 11, 30)));
        assert_eq!(case.facts.statutory_due, Some(date(2026, 12, 21)));
        // The step goes to the handler's post holder, A (B backs A up).
        assert_eq!(case.assignee_id, Some(world.handler_a.id));

        let case = act(&store, &world.handler_a, &case, complete_step("拟同意"))
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Reviewing);
        assert_eq!(case.assignee_id, Some(world.reviewer.id));
        let case = act(&store, &world.reviewer, &case, complete_step("审核通过"))
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Approving);
        assert_eq!(case.assignee_id, Some(world.approver.id));
        let case = act(&store, &world.approver, &case, complete_step("同意"))
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Deciding);
        assert_eq!(case.assignee_id, Some(world.approver.id));
        let case = act(&store, &world.approver, &case, approve())
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Decided);
        assert_eq!(case.facts.outcome, Some(Outcome::Approve));
        // Delivery is the window's shared work again.
        assert_eq!(case.assignee_id, None);
        let delivered = act(&store, &world.clerk, &case, deliver()).await.unwrap();
        let case = delivered.case;
        assert_eq!(case.facts.state, CaseState::Completed);
        assert_eq!(case.version, 7);
        assert_eq!(case.assignee_id, None);
        assert_eq!(store.case(case.id).await.unwrap(), case);
        assert_eq!(delivered.event.to_state, CaseState::Completed);

        let events = store.case_events(case.id).await.unwrap();
        let timeline: Vec<(&str, Option<CaseState>, CaseState, Option<&str>)> = events
            .iter()
            .map(|e| {
                (
                    e.action.as_str(),
                    e.from_state,
                    e.to_state,
                    e.actor_name.as_deref(),
                )
            })
            .collect();
        use CaseState as S;
        assert_eq!(
            timeline,
            vec![
                ("submit", None, S::Submitted, None),
                ("accept", Some(S::Submitted), S::Handling, Some("窗口王芳")),
                (
                    "complete_step",
                    Some(S::Handling),
                    S::Reviewing,
                    Some("承办李明")
                ),
                (
                    "complete_step",
                    Some(S::Reviewing),
                    S::Approving,
                    Some("审核陈静")
                ),
                (
                    "complete_step",
                    Some(S::Approving),
                    S::Deciding,
                    Some("批准刘洋")
                ),
                ("decide", Some(S::Deciding), S::Decided, Some("批准刘洋")),
                ("deliver", Some(S::Decided), S::Completed, Some("窗口王芳")),
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| e.case_id == case.id && e.on_behalf_of.is_none())
        );
        assert_eq!(events[2].detail["opinion"], "拟同意");
        assert_eq!(events[2].detail["step_name"], "承办");
        assert_eq!(events.last().unwrap(), &delivered.event);

        // The audit log has the same story, newest first.
        let audited: Vec<String> = store
            .audit_entries("case", &case.id.to_string(), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        let mut expected: Vec<String> = events.iter().map(|e| e.action.clone()).collect();
        expected.reverse();
        assert_eq!(audited, expected);

        // A completed case refuses everything.
        let again = act(&store, &world.clerk, &case, deliver()).await;
        assert!(matches!(
            again,
            Err(StoreError::Domain(DomainError::TransitionRefused {
                state: CaseState::Completed,
                action: Action::Deliver
            }))
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instant_item_is_accepted_and_decided_at_once() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let item = published_item(
            &store,
            world.department.id,
            instant_guide("0009", "个体工商户名称变更"),
        )
        .await;
        let case = submit(&store, item.id).await;
        let case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Deciding);
        assert_eq!(case.facts.promised_due, Some(date(2026, 11, 23)));
        // The window decides an instant item on the spot: it waits on no
        // approver's queue, and the clerk who accepted it decides it.
        assert_eq!(
            case.facts.pending_role(&item.guide.steps),
            Some(Role::WindowClerk)
        );
        assert_eq!(case.assignee_id, None);
        let case = act(&store, &world.clerk, &case, approve())
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Decided);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_is_in_its_holders_queue_and_in_the_backups_only_while_a_is_absent() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let queue_of = |member| {
            let store = store.clone();
            async move {
                store
                    .queue(&member, 50)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            }
        };
        // A submitted case is the window's shared work.
        assert_eq!(queue_of(world.clerk.clone()).await, vec![case.id]);
        assert!(queue_of(world.handler_a.clone()).await.is_empty());

        let case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        assert!(queue_of(world.clerk.clone()).await.is_empty());
        assert_eq!(queue_of(world.handler_a.clone()).await, vec![case.id]);
        assert!(queue_of(world.handler_b.clone()).await.is_empty());
        assert!(queue_of(world.reviewer.clone()).await.is_empty());

        // B cannot act for a present A, and the refusal writes nothing.
        let refused = act(&store, &world.handler_b, &case, complete_step("代办")).await;
        assert!(
            matches!(refused, Err(StoreError::Domain(DomainError::NotAssignee))),
            "{refused:?}"
        );
        assert_eq!(store.case(case.id).await.unwrap(), case);

        // A is away: B sees the case and acts for A.
        let b = store
            .set_absent(admin(), world.handler_a.id, true, now())
            .await
            .unwrap();
        assert!(b.absent);
        assert_eq!(queue_of(world.handler_b.clone()).await, vec![case.id]);
        assert_eq!(queue_of(world.handler_a.clone()).await, vec![case.id]);
        let applied = act(&store, &world.handler_b, &case, complete_step("代A角办理"))
            .await
            .unwrap();
        assert_eq!(applied.event.actor_id, Some(world.handler_b.id));
        assert_eq!(applied.event.actor_name.as_deref(), Some("承办赵强"));
        assert_eq!(applied.event.on_behalf_of, Some(world.handler_a.id));
        assert_eq!(applied.event.on_behalf_name.as_deref(), Some("承办李明"));
        let audited = store
            .audit_entries("case", &case.id.to_string(), 1)
            .await
            .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&audited[0].detail).unwrap();
        assert_eq!(detail["on_behalf_of"], world.handler_a.id);
        assert_eq!(audited[0].actor, format!("staff:{}", world.handler_b.id));
        assert_eq!(
            store.case_events(case.id).await.unwrap().last().unwrap(),
            &applied.event
        );
        assert_eq!(queue_of(world.reviewer.clone()).await, vec![case.id]);
        assert!(queue_of(world.handler_b.clone()).await.is_empty());

        // Back to work: B no longer sees A's cases.
        let second = submit(&store, world.item.id).await;
        let second = act(&store, &world.clerk, &second, accept())
            .await
            .unwrap()
            .case;
        assert_eq!(second.assignee_id, Some(world.handler_a.id));
        assert_eq!(queue_of(world.handler_b.clone()).await, vec![second.id]);
        store
            .set_absent(admin(), world.handler_a.id, false, now())
            .await
            .unwrap();
        assert!(queue_of(world.handler_b.clone()).await.is_empty());
        assert_eq!(queue_of(world.handler_a.clone()).await, vec![second.id]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_shows_only_its_department_and_roles_most_urgent_first() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let other_clerk = person(
            &store,
            housing.id,
            "clerk2",
            "住建窗口",
            &[onewindow_core::staff::Role::WindowClerk],
        )
        .await;
        let other_item =
            published_item(&store, housing.id, guide("0100", "建筑工程施工许可")).await;
        let late = store
            .submit_case(application(world.item.id), None, later(24))
            .await
            .unwrap()
            .case;
        let early = submit(&store, world.item.id).await;
        let elsewhere = submit(&store, other_item.id).await;
        let ids = |cases: Vec<onewindow_core::case::Case>| -> Vec<i64> {
            cases.into_iter().map(|c| c.id).collect()
        };
        assert_eq!(
            ids(store.queue(&world.clerk, 10).await.unwrap()),
            vec![early.id, late.id]
        );
        assert_eq!(
            ids(store.queue(&world.clerk, 1).await.unwrap()),
            vec![early.id]
        );
        assert_eq!(
            ids(store.queue(&other_clerk, 10).await.unwrap()),
            vec![elsewhere.id]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_command_writes_nothing() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let events_before = store.case_events(case.id).await.unwrap();
        let audit_before = audit_entry_count(&store).await;

        let refused = act(&store, &world.approver, &case, approve()).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Domain(DomainError::TransitionRefused {
                    state: CaseState::Submitted,
                    action: Action::Decide
                }))
            ),
            "{refused:?}"
        );
        // Wrong role, missing content, another department: refused as well.
        let wrong_role = act(&store, &world.handler_a, &case, accept()).await;
        assert!(matches!(
            wrong_role,
            Err(StoreError::Domain(DomainError::RoleRequired {
                role: "window_clerk"
            }))
        ));
        let no_reasons = act(
            &store,
            &world.clerk,
            &case,
            Command::Reject {
                reasons: "  ".into(),
                rights_notice: "可以申请行政复议".into(),
            },
        )
        .await;
        assert!(matches!(&no_reasons, Err(StoreError::Domain(e)) if e.field() == Some("reasons")));
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let outsider = person(
            &store,
            housing.id,
            "clerk2",
            "住建窗口",
            &[onewindow_core::staff::Role::WindowClerk],
        )
        .await;
        let audit_before = audit_before + 2;
        let other_department = act(&store, &outsider, &case, accept()).await;
        assert!(matches!(
            other_department,
            Err(StoreError::Domain(DomainError::NotAssignee))
        ));
        // The applicant's own commands are not staff commands.
        let withdraw = act(
            &store,
            &world.clerk,
            &case,
            Command::Withdraw {
                reason: String::new(),
            },
        )
        .await;
        assert!(matches!(
            withdraw,
            Err(StoreError::Domain(DomainError::RoleRequired {
                role: "applicant"
            }))
        ));

        assert_eq!(store.case(case.id).await.unwrap(), case);
        assert_eq!(store.case_events(case.id).await.unwrap(), events_before);
        assert_eq!(audit_entry_count(&store).await, audit_before);
        assert_eq!(
            store
                .audit_entries("case", &case.id.to_string(), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            onewindow_store::audit::Verification::Intact { .. }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approver_terminates_a_case_whoever_holds_its_step() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        // The case sits in handler A's step; terminating is the approver's call.
        let terminate = Command::Terminate {
            reason: "申请人已注销".into(),
        };
        let case = act(&store, &world.approver, &case, terminate)
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::Terminated);
        assert_eq!(case.assignee_id, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_on_a_stale_version_is_a_conflict() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let accepted = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        // `case` is the version before acceptance.
        let stale = act(&store, &world.handler_a, &case, complete_step("同意")).await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        assert_eq!(store.case(case.id).await.unwrap(), accepted);
        assert_eq!(store.case_events(case.id).await.unwrap().len(), 2);
        // Without an expected version the command applies to what is there.
        let applied = act_at(
            &store,
            &world.handler_a,
            case.id,
            None,
            complete_step("同意"),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(applied.case.version, 3);
        let missing = act_at(&store, &world.clerk, case.id + 100, None, accept(), now()).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { .. })),
            "{missing:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_applicant_withdraws_and_resubmits_through_apply_command() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let supplement = Command::RequestSupplement {
            items: vec![onewindow_core::case::SupplementItem {
                material: "营业执照".into(),
                problem: "缺少副本".into(),
            }],
            note: String::new(),
        };
        let case = act(&store, &world.clerk, &case, supplement)
            .await
            .unwrap()
            .case;
        assert_eq!(case.facts.state, CaseState::AwaitingSupplement);
        assert!(case.facts.supplement_requested);
        // The applicant's command, decided without staff authorization.
        let resubmit = Command::Resubmit {
            note: "已补齐".into(),
        };
        let applied = store
            .apply_command(
                case.id,
                Some(case.version),
                Who::Applicant,
                None,
                later(48),
                {
                    move |context| {
                        let rules = context.item.guide.rules();
                        let transition = onewindow_core::case::decide(
                            &context.case.facts,
                            &resubmit,
                            &rules,
                            &onewindow_core::calendar::WeekendCalendar,
                            later(48),
                        )?;
                        Ok((transition, None))
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(applied.case.facts.state, CaseState::Submitted);
        assert_eq!(applied.case.facts.received_on, date(2026, 11, 25));
        assert_eq!(applied.event.actor_id, None);
        let audited = store
            .audit_entries("case", &case.id.to_string(), 1)
            .await
            .unwrap();
        assert_eq!(audited[0].actor, "applicant");
        assert_eq!(audited[0].action, "resubmit");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspension_keeps_its_procedure_and_resumes_to_the_step() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let case = act(&store, &world.clerk, &case, accept())
            .await
            .unwrap()
            .case;
        let suspend = Command::Suspend {
            procedure: onewindow_core::case::SpecialProcedure::ExpertReview,
            reason: "组织专家评审".into(),
            planned_days: 5,
        };
        let case = act_at(
            &store,
            &world.handler_a,
            case.id,
            Some(case.version),
            suspend,
            later(24),
        )
        .await
        .unwrap()
        .case;
        assert_eq!(case.facts.state, CaseState::Suspended);
        let suspension = case.facts.suspension.clone().expect("a suspension");
        assert_eq!(suspension.resume_to, CaseState::Handling);
        assert_eq!(suspension.started_on, date(2026, 11, 24));
        assert_eq!(store.case(case.id).await.unwrap(), case);
        assert_eq!(case.assignee_id, Some(world.handler_a.id));
        let resume = Command::Resume {
            note: String::new(),
        };
        let case = act_at(
            &store,
            &world.handler_a,
            case.id,
            Some(case.version),
            resume,
            later(96),
        )
        .await
        .unwrap()
        .case;
        assert_eq!(case.facts.state, CaseState::Handling);
        assert_eq!(case.facts.suspension, None);
        assert_eq!(case.facts.paused_working_days, 3);
        assert_eq!(case.facts.promised_due, Some(date(2026, 12, 3)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn materials_handed_in_are_stored_with_their_sm3_digest() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let form = b"%PDF-1.7 application form".to_vec();
        let licence = vec![0u8, 1, 2, 3, 255, 254, 0, 0];
        let mut new = application(world.item.id);
        new.materials = vec![
            ("食品经营许可申请书".into(), file("申请书.pdf", &form)),
            ("营业执照".into(), file("营业执照.pdf", &licence)),
        ];
        let case = store.submit_case(new, None, now()).await.unwrap().case;
        let materials = store.case_materials(case.id).await.unwrap();
        let listed: Vec<(&str, &str, i64, &str)> = materials
            .iter()
            .map(|m| {
                (
                    m.material_name.as_str(),
                    m.file.name.as_str(),
                    m.file.size,
                    m.file.sm3.as_str(),
                )
            })
            .collect();
        let (form_digest, licence_digest) = (sm3_hex(&form), sm3_hex(&licence));
        assert_eq!(
            listed,
            vec![
                (
                    "食品经营许可申请书",
                    "申请书.pdf",
                    form.len() as i64,
                    form_digest.as_str()
                ),
                (
                    "营业执照",
                    "营业执照.pdf",
                    licence.len() as i64,
                    licence_digest.as_str()
                ),
            ]
        );
        let (info, bytes) = store.file(materials[1].file.id).await.unwrap();
        assert_eq!(info, materials[1].file);
        assert_eq!(bytes, licence);
        assert!(matches!(
            store.file(materials[1].file.id + 100).await,
            Err(StoreError::NotFound { .. })
        ));
        let other = submit(&store, world.item.id).await;
        assert!(store.case_materials(other.id).await.unwrap().is_empty());
        assert_eq!(
            store.case_of_file(materials[0].file.id).await.unwrap(),
            Some(case.id)
        );
        let loose = store
            .store_file(file("模板.pdf", b"%PDF template"), now())
            .await
            .unwrap();
        assert_eq!(store.case_of_file(loose.id).await.unwrap(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_idempotency_key_files_one_case() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let first = store
            .submit_case(application(world.item.id), key("k-1", "hash-a"), now())
            .await
            .unwrap();
        let again = store
            .submit_case(application(world.item.id), key("k-1", "hash-a"), later(1))
            .await
            .unwrap();
        assert!(!first.replayed && again.replayed);
        assert_eq!(
            (again.case, again.event),
            (first.case.clone(), first.event.clone())
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 1);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM case_events").await, 1);

        let mismatch = store
            .submit_case(application(world.item.id), key("k-1", "hash-b"), now())
            .await;
        assert!(
            matches!(mismatch, Err(StoreError::IdempotencyMismatch)),
            "{mismatch:?}"
        );

        // Another key (or another sender with the same key) is another request.
        let other = store
            .submit_case(application(world.item.id), key("k-2", "hash-a"), now())
            .await
            .unwrap();
        assert_eq!(other.case.number, "430423-20261123-00002");
        let staff_scope = Some(IdempotencyKey {
            scope: format!("staff:{}", world.clerk.id),
            key: "k-1".into(),
            request_hash: "hash-a".into(),
        });
        let scoped = store
            .submit_case(application(world.item.id), staff_scope, now())
            .await
            .unwrap();
        assert_eq!(scoped.case.number, "430423-20261123-00003");
        assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_command_with_its_idempotency_key_applies_once() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let scope = format!("staff:{}", world.clerk.id);
        let key = || {
            Some(IdempotencyKey {
                scope: scope.clone(),
                key: "accept-1".into(),
                request_hash: "accept".into(),
            })
        };
        let accept_once = || {
            store.apply_command(
                case.id,
                Some(case.version),
                Who::Staff(world.clerk.id),
                key(),
                now(),
                as_staff(&world.clerk, accept(), now()),
            )
        };
        let first = accept_once().await.unwrap();
        // The retry carries the stale version, yet gets the first answer.
        let retry = accept_once().await.unwrap();
        assert!(!first.replayed && retry.replayed);
        assert_eq!((&retry.case, &retry.event), (&first.case, &first.event));
        assert_eq!(store.case_events(case.id).await.unwrap().len(), 2);
        // A refused command records no key: the same key may be used again.
        let refused = store
            .apply_command(
                case.id,
                None,
                Who::Staff(world.clerk.id),
                Some(IdempotencyKey {
                    scope: scope.clone(),
                    key: "decide-1".into(),
                    request_hash: "decide".into(),
                }),
                now(),
                as_staff(&world.clerk, approve(), now()),
            )
            .await;
        assert!(refused.is_err());
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM idempotency_keys").await,
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_concurrent_acceptances_exactly_one_wins() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let first = act(&store, &world.clerk, &case, accept());
        let second = act(&store, &world.clerk, &case, accept());
        let (first, second) = tokio::join!(first, second);
        let results = [first, second];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{results:?}");
        for result in &results {
            match result {
                Ok(applied) => assert_eq!(applied.case.version, 2),
                Err(StoreError::Conflict(_))
                | Err(StoreError::Domain(DomainError::TransitionRefused { .. })) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        let accepts = store
            .case_events(case.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "accept")
            .count();
        assert_eq!(accepts, 1);

        // Without version checks the state machine refuses the loser.
        let case = submit(&store, world.item.id).await;
        let spawn_accept = || {
            let store = store.clone();
            let clerk = world.clerk.clone();
            tokio::spawn(
                async move { act_at(&store, &clerk, case.id, None, accept(), now()).await },
            )
        };
        let (first, second) = tokio::join!(spawn_accept(), spawn_accept());
        let results = [first.unwrap(), second.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        // The loser hears that the case is accepted already.
        assert!(results.iter().any(|r| matches!(
            r,
            Err(StoreError::Domain(DomainError::TransitionRefused { .. }))
        )));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_submissions_all_get_distinct_numbers() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let store = store.clone();
                let item_id = world.item.id;
                tokio::spawn(async move {
                    let mut new = application(item_id);
                    new.applicant.name = format!("申请人{i}");
                    store.submit_case(new, None, now()).await
                })
            })
            .collect();
        let mut numbers = BTreeSet::new();
        for task in tasks {
            let applied = task.await.unwrap().expect("every submission succeeds");
            numbers.insert(applied.case.number);
        }
        let expected: BTreeSet<String> = (1..=200)
            .map(|n| format!("430423-20261123-{n:05}"))
            .collect();
        assert_eq!(numbers, expected);
        let (_, total) = store
            .cases(&CaseFilter {
                state: Some(CaseState::Submitted),
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(total, 200);
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            onewindow_store::audit::Verification::Intact { .. }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_job_in_a_batch_does_not_undo_the_others() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let draft = store
            .create_item(
                admin(),
                world.department.id,
                guide("0002", "草稿事项"),
                now(),
            )
            .await
            .unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                let item_id = if i % 2 == 0 { world.item.id } else { draft.id };
                tokio::spawn(
                    async move { store.submit_case(application(item_id), None, now()).await },
                )
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Domain(DomainError::ItemNotPublished)) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(ok, 20);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 20);
        assert_eq!(count(&store, "SELECT MAX(value) FROM counters").await, 20);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cases_are_listed_by_department_item_state_and_text_with_counts() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let other_item = published_item(
            &store,
            world.department.id,
            guide("0002", "食品经营许可（延续）"),
        )
        .await;
        let mut named = application(world.item.id);
        named.applicant.name = "李_四".into();
        let li = store.submit_case(named, None, now()).await.unwrap().case;
        let zhang = store
            .submit_case(application(other_item.id), None, later(1))
            .await
            .unwrap()
            .case;
        let accepted = submit(&store, world.item.id).await;
        let accepted = act(&store, &world.clerk, &accepted, accept())
            .await
            .unwrap()
            .case;
        let list = |filter: CaseFilter| {
            let store = store.clone();
            async move {
                let (cases, total) = store.cases(&filter).await.unwrap();
                (cases.into_iter().map(|c| c.id).collect::<Vec<_>>(), total)
            }
        };
        // Newest first.
        assert_eq!(
            list(CaseFilter::default()).await,
            (vec![zhang.id, accepted.id, li.id], 3)
        );
        assert_eq!(
            list(CaseFilter {
                item_id: Some(other_item.id),
                ..CaseFilter::default()
            })
            .await,
            (vec![zhang.id], 1)
        );
        assert_eq!(
            list(CaseFilter {
                state: Some(CaseState::Handling),
                department_id: Some(world.department.id),
                ..CaseFilter::default()
            })
            .await,
            (vec![accepted.id], 1)
        );
        assert_eq!(
            list(CaseFilter {
                text: Some("李_".into()),
                ..CaseFilter::default()
            })
            .await,
            (vec![li.id], 1)
        );
        // An underscore is a character, not a wildcard.
        assert_eq!(
            list(CaseFilter {
                text: Some("_".into()),
                ..CaseFilter::default()
            })
            .await,
            (vec![li.id], 1)
        );
        assert_eq!(
            list(CaseFilter {
                text: Some(zhang.number.clone()),
                ..CaseFilter::default()
            })
            .await,
            (vec![zhang.id], 1)
        );
        assert_eq!(
            list(CaseFilter {
                limit: 1,
                offset: 1,
                ..CaseFilter::default()
            })
            .await,
            (vec![accepted.id], 3)
        );
        let mut counts = store.case_counts().await.unwrap();
        counts.sort_by_key(|(state, _)| state.key());
        assert_eq!(
            counts,
            vec![(CaseState::Handling, 1), (CaseState::Submitted, 2)]
        );
    })
    .await;
}
