//! Departments, staff, log-in sessions, A/B backups and absences.

mod common;

use common::*;
use onewindow_core::staff::Role;
use onewindow_store::StoreError;
use onewindow_store::admin::StaffProfile;
use onewindow_store::staff::NewStaff;
use sqlx::Row;

fn field_of(error: &StoreError) -> Option<&str> {
    match error {
        StoreError::Domain(e) => e.field(),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn departments_are_created_listed_and_read_back() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        assert_eq!(
            store.departments().await.unwrap(),
            vec![market.clone(), housing]
        );
        assert_eq!(store.department(market.id).await.unwrap(), market);
        assert!(matches!(
            store.department(market.id + 100).await,
            Err(StoreError::NotFound { .. })
        ));
        // A department code is unique.
        let twice = store
            .create_department(
                admin(),
                onewindow_store::staff::NewDepartment {
                    code: "HSSJ".into(),
                    name: "重复".into(),
                    level: onewindow_core::catalog::RegionLevel::County,
                    parent_id: None,
                    region_code: "430423".into(),
                    window_location: String::new(),
                    phone: String::new(),
                    address: String::new(),
                },
                now(),
            )
            .await;
        assert_eq!(field_of(&twice.unwrap_err()), Some("code"));
        // A township under the county department keeps its parent.
        let township = store
            .create_department(
                admin(),
                onewindow_store::staff::NewDepartment {
                    code: "KYZ".into(),
                    name: "开云镇便民服务中心".into(),
                    level: onewindow_core::catalog::RegionLevel::Township,
                    parent_id: Some(market.id),
                    region_code: "430423101".into(),
                    window_location: String::new(),
                    phone: String::new(),
                    address: String::new(),
                },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(township.parent_id, Some(market.id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_staff_member_logs_in_with_the_right_password_only() {
    for_each_backend(|store| async move {
        let department = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let member = store
            .create_staff(
                admin(),
                NewStaff {
                    login: "wangfang".into(),
                    name: "王芳".into(),
                    department_id: department.id,
                    roles: vec![Role::WindowClerk, Role::Handler],
                    password: "s3cret-passw0rd".into(),
                    phone: "13807340001".into(),
                },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(member.roles, vec![Role::WindowClerk, Role::Handler]);
        assert!(!member.absent);
        assert_eq!(member.backup_id, None);

        // Only an argon2id hash is stored.
        let stored: String = sqlx::query("SELECT password_hash FROM staff WHERE id = $1")
            .bind(member.id)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("s3cret-passw0rd"));

        let wrong = store.log_in("wangfang", "not-the-password", now(), 8).await;
        assert!(matches!(wrong, Err(StoreError::Forbidden(_))), "{wrong:?}");
        let unknown = store.log_in("nobody", "s3cret-passw0rd", now(), 8).await;
        assert!(
            matches!(unknown, Err(StoreError::Forbidden(_))),
            "{unknown:?}"
        );

        let (token, who) = store
            .log_in(" wangfang ", "s3cret-passw0rd", now(), 8)
            .await
            .unwrap();
        assert_eq!(who, member);
        assert_eq!(
            store.session(&token, now()).await.unwrap(),
            Some(member.clone())
        );
        assert_eq!(store.session("not-a-token", now()).await.unwrap(), None);
        // A session lasts its time to live, then is over.
        assert_eq!(
            store.session(&token, later(7)).await.unwrap(),
            Some(member.clone())
        );
        assert_eq!(store.session(&token, later(8)).await.unwrap(), None);

        store.log_out(&token).await.unwrap();
        assert_eq!(store.session(&token, now()).await.unwrap(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_creation_refuses_short_passwords_blank_logins_and_taken_logins() {
    for_each_backend(|store| async move {
        let department = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let new = |login: &str, password: &str| NewStaff {
            login: login.into(),
            name: "王芳".into(),
            department_id: department.id,
            roles: vec![Role::WindowClerk],
            password: password.into(),
            phone: String::new(),
        };
        let short = store
            .create_staff(admin(), new("wangfang", "short"), now())
            .await;
        assert_eq!(field_of(&short.unwrap_err()), Some("password"));
        let blank = store
            .create_staff(admin(), new("  ", "long enough"), now())
            .await;
        assert_eq!(field_of(&blank.unwrap_err()), Some("login"));
        store
            .create_staff(admin(), new("wangfang", "long enough"), now())
            .await
            .unwrap();
        let taken = store
            .create_staff(admin(), new("wangfang", "long enough"), now())
            .await;
        assert_eq!(field_of(&taken.unwrap_err()), Some("login"));
        assert_eq!(store.staff(Some(department.id)).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_are_listed_by_department_or_all_together() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, housing.id, "b", "乙", &[Role::Reviewer]).await;
        let c = person(&store, market.id, "c", "丙", &[Role::Approver]).await;
        assert_eq!(
            store.staff(Some(market.id)).await.unwrap(),
            vec![a.clone(), c.clone()]
        );
        assert_eq!(
            store.staff(Some(housing.id)).await.unwrap(),
            vec![b.clone()]
        );
        assert_eq!(store.staff(None).await.unwrap(), vec![a, b, c]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_must_be_someone_else_of_the_same_department() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, market.id, "b", "乙", &[Role::Handler]).await;
        let outsider = person(&store, housing.id, "x", "外", &[Role::Handler]).await;

        let itself = store.set_backup(admin(), a.id, Some(a.id), now()).await;
        assert_eq!(field_of(&itself.unwrap_err()), Some("backup_id"));
        let other_department = store
            .set_backup(admin(), a.id, Some(outsider.id), now())
            .await;
        assert_eq!(field_of(&other_department.unwrap_err()), Some("backup_id"));
        // A B who does not exist is bad input naming the field; an A who
        // does not exist is not found.
        let nobody = store
            .set_backup(admin(), a.id, Some(b.id + 100), now())
            .await;
        assert_eq!(field_of(&nobody.unwrap_err()), Some("backup_id"));
        let no_a = store
            .set_backup(admin(), b.id + 100, Some(b.id), now())
            .await;
        assert!(matches!(no_a, Err(StoreError::NotFound { .. })), "{no_a:?}");

        store
            .set_backup(admin(), a.id, Some(b.id), now())
            .await
            .unwrap();
        assert_eq!(
            store.staff_member(a.id).await.unwrap().backup_id,
            Some(b.id)
        );
        store.set_backup(admin(), a.id, None, now()).await.unwrap();
        assert_eq!(store.staff_member(a.id).await.unwrap().backup_id, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_and_b_are_never_away_together() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, market.id, "b", "乙", &[Role::Handler]).await;
        let c = person(&store, market.id, "c", "丙", &[Role::Handler]).await;

        // Without a B, A cannot be marked absent.
        let unset = store.set_absent(admin(), a.id, true, now()).await;
        assert_eq!(field_of(&unset.unwrap_err()), Some("absent"));

        store
            .set_backup(admin(), a.id, Some(b.id), now())
            .await
            .unwrap();
        store
            .set_backup(admin(), b.id, Some(c.id), now())
            .await
            .unwrap();
        // B is away (C covers B): A must stay.
        assert!(
            store
                .set_absent(admin(), b.id, true, now())
                .await
                .unwrap()
                .absent
        );
        let b_away = store.set_absent(admin(), a.id, true, now()).await;
        assert_eq!(field_of(&b_away.unwrap_err()), Some("absent"));
        assert!(!store.staff_member(a.id).await.unwrap().absent);

        // B is back: A may go; now B cannot leave.
        assert!(
            !store
                .set_absent(admin(), b.id, false, now())
                .await
                .unwrap()
                .absent
        );
        assert!(
            store
                .set_absent(admin(), a.id, true, now())
                .await
                .unwrap()
                .absent
        );
        let a_away = store.set_absent(admin(), b.id, true, now()).await;
        assert_eq!(field_of(&a_away.unwrap_err()), Some("absent"));
        assert!(!store.staff_member(b.id).await.unwrap().absent);

        // While A is away, A's B cannot be removed.
        let removed = store.set_backup(admin(), a.id, None, now()).await;
        assert_eq!(field_of(&removed.unwrap_err()), Some("backup_id"));
        assert_eq!(
            store.staff_member(a.id).await.unwrap().backup_id,
            Some(b.id)
        );

        // A returns; B may go again.
        store.set_absent(admin(), a.id, false, now()).await.unwrap();
        assert!(
            store
                .set_absent(admin(), b.id, true, now())
                .await
                .unwrap()
                .absent
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absent_a_cannot_be_given_an_absent_b() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, market.id, "b", "乙", &[Role::Handler]).await;
        let c = person(&store, market.id, "c", "丙", &[Role::Handler]).await;
        let d = person(&store, market.id, "d", "丁", &[Role::Handler]).await;
        store
            .set_backup(admin(), a.id, Some(b.id), now())
            .await
            .unwrap();
        store
            .set_backup(admin(), c.id, Some(d.id), now())
            .await
            .unwrap();
        store.set_absent(admin(), a.id, true, now()).await.unwrap();
        store.set_absent(admin(), c.id, true, now()).await.unwrap();
        // D now covers C and B covers A.
        // A is away; C (away as well) cannot become A's B.
        let away = store.set_backup(admin(), a.id, Some(c.id), now()).await;
        assert_eq!(field_of(&away.unwrap_err()), Some("backup_id"));
        // D is present: fine.
        store
            .set_backup(admin(), a.id, Some(d.id), now())
            .await
            .unwrap();
        assert_eq!(
            store.staff_member(a.id).await.unwrap().backup_id,
            Some(d.id)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_staff_change_is_audited() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, market.id, "b", "乙", &[Role::Handler]).await;
        store
            .set_backup(admin(), a.id, Some(b.id), now())
            .await
            .unwrap();
        store.set_absent(admin(), a.id, true, now()).await.unwrap();
        let actions: Vec<String> = store
            .audit_entries("staff", &a.id.to_string(), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["set_absent", "set_backup", "create_staff"]);
        // A refused change leaves no entry.
        let before = audit_entry_count(&store).await;
        assert!(store.set_absent(admin(), b.id, true, now()).await.is_err());
        assert_eq!(audit_entry_count(&store).await, before);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn references_to_a_missing_department_name_the_field() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let missing = market.id + 100;
        let staff = store
            .create_staff(
                admin(),
                NewStaff {
                    login: "ghost".into(),
                    name: "无部门".into(),
                    department_id: missing,
                    roles: vec![Role::Handler],
                    password: "long enough".into(),
                    phone: String::new(),
                },
                now(),
            )
            .await;
        assert_eq!(field_of(&staff.unwrap_err()), Some("department_id"));
        let township = store
            .create_department(
                admin(),
                onewindow_store::staff::NewDepartment {
                    code: "KYZ".into(),
                    name: "开云镇".into(),
                    level: onewindow_core::catalog::RegionLevel::Township,
                    parent_id: Some(missing),
                    region_code: "430423101".into(),
                    window_location: String::new(),
                    phone: String::new(),
                    address: String::new(),
                },
                now(),
            )
            .await;
        assert_eq!(field_of(&township.unwrap_err()), Some("parent_id"));
        let window = store
            .create_window(admin(), missing, "1号窗口".into(), "一楼".into(), now())
            .await;
        assert_eq!(field_of(&window.unwrap_err()), Some("department_id"));
        let window = store
            .create_window(admin(), market.id, "1号窗口".into(), "一楼".into(), now())
            .await
            .unwrap();
        assert!(window > 0);
        assert_eq!(store.departments().await.unwrap().len(), 1);
        assert_eq!(store.staff(None).await.unwrap().len(), 0);
    })
    .await;
}

fn profile_of(member: &onewindow_store::staff::StaffMember) -> StaffProfile {
    StaffProfile {
        name: member.name.clone(),
        roles: member.roles.clone(),
        phone: member.phone.clone(),
        email: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_moves_department_only_once_out_of_every_a_b_post() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let a = person(&store, market.id, "a", "甲", &[Role::Handler]).await;
        let b = person(&store, market.id, "b", "乙", &[Role::Handler]).await;
        store
            .set_backup(admin(), a.id, Some(b.id), now())
            .await
            .unwrap();

        // A has a B, and B is A's B: neither moves.
        let before = audit_entry_count(&store).await;
        let with_b = store
            .update_staff(admin(), a.id, profile_of(&a), housing.id, now())
            .await
            .unwrap_err();
        assert_eq!(field_of(&with_b), Some("department_id"));
        let backing = store
            .update_staff(admin(), b.id, profile_of(&b), housing.id, now())
            .await
            .unwrap_err();
        assert_eq!(field_of(&backing), Some("department_id"));
        assert!(backing.to_string().contains("甲"), "{backing}");
        assert_eq!(audit_entry_count(&store).await, before);
        assert_eq!(
            store.staff_member(b.id).await.unwrap().department_id,
            market.id
        );

        // Once the post is rearranged, B moves, renamed in the same change.
        store.set_backup(admin(), a.id, None, now()).await.unwrap();
        let moved = store
            .update_staff(
                admin(),
                b.id,
                StaffProfile {
                    name: "乙某".into(),
                    roles: vec![Role::Reviewer],
                    ..profile_of(&b)
                },
                housing.id,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(moved.member.department_id, housing.id);
        assert_eq!(moved.member.name, "乙某");
        assert_eq!(moved.member.roles, vec![Role::Reviewer]);
        assert_eq!(
            store.staff(Some(housing.id)).await.unwrap(),
            vec![moved.member]
        );
        let entry = store
            .audit_entries("staff", &b.id.to_string(), 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(entry.action, "update_staff");
        let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
        assert_eq!(detail["from_department_id"], market.id);
        assert_eq!(detail["department_id"], housing.id);

        // A department that does not exist names the field; a person who
        // does not exist is not found.
        let nowhere = store
            .update_staff(admin(), a.id, profile_of(&a), housing.id + 100, now())
            .await
            .unwrap_err();
        assert_eq!(field_of(&nowhere), Some("department_id"));
        let nobody = store
            .update_staff(admin(), b.id + 100, profile_of(&a), market.id, now())
            .await;
        assert!(
            matches!(nobody, Err(StoreError::NotFound { .. })),
            "{nobody:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_is_read_back_by_its_id() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let id = store
            .create_window(
                admin(),
                market.id,
                "A01综合窗口".into(),
                "一楼A区".into(),
                now(),
            )
            .await
            .unwrap();
        let window = store.window(id).await.unwrap();
        assert_eq!(
            (
                window.department_id,
                window.name.as_str(),
                window.location.as_str()
            ),
            (market.id, "A01综合窗口", "一楼A区")
        );
        assert!(matches!(
            store.window(id + 100).await,
            Err(StoreError::NotFound { .. })
        ));
    })
    .await;
}

/// A handler who gives up the post keeps no case: the cases waiting at
/// their step go to the department's other handler, whose queue shows them;
/// and one who moves to another department takes none along. Each hand-over
/// is in the person's audit entry, and the case's version moves on.
#[tokio::test(flavor = "multi_thread")]
async fn cases_held_by_someone_who_leaves_the_post_or_the_department_are_handed_on() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let case = submit(&store, world.item.id).await;
        let accepted = act(&store, &world.clerk, &case, accept())
            .await
            .expect("accept")
            .case;
        assert_eq!(accepted.assignee_id, Some(world.handler_a.id));

        // A becomes a reviewer: the case goes to B, the other handler.
        let changed = store
            .update_staff_profile(
                admin(),
                world.handler_a.id,
                StaffProfile {
                    roles: vec![Role::Reviewer],
                    ..profile_of(&world.handler_a)
                },
                now(),
            )
            .await
            .expect("change A's roles");
        assert_eq!(changed.cases_handed_on, vec![case.id]);
        let handed = store.case(case.id).await.unwrap();
        assert_eq!(handed.assignee_id, Some(world.handler_b.id));
        assert_eq!(handed.version, accepted.version + 1);
        let b = store.staff_member(world.handler_b.id).await.unwrap();
        let queue = store.queue(&b, 50).await.unwrap();
        assert!(queue.iter().any(|c| c.id == case.id), "{queue:?}");
        let entry = store
            .audit_entries("staff", &world.handler_a.id.to_string(), 1)
            .await
            .unwrap()
            .remove(0);
        let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
        assert_eq!(detail["cases_handed_on"], serde_json::json!([case.id]));

        // B moves to another department (the A/B post undone first): the
        // department has no handler left, so the case waits unassigned in
        // its queue rather than with someone who cannot act on it.
        store
            .set_backup(admin(), world.handler_a.id, None, now())
            .await
            .unwrap();
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        store
            .update_staff(admin(), b.id, profile_of(&b), housing.id, now())
            .await
            .expect("move B");
        assert_eq!(store.case(case.id).await.unwrap().assignee_id, None);

        // A handler who keeps the post keeps the case.
        let c = person(
            &store,
            world.department.id,
            "handler_c",
            "承办孙丽",
            &[Role::Handler],
        )
        .await;
        let second = submit(&store, world.item.id).await;
        act(&store, &world.clerk, &second, accept())
            .await
            .expect("accept");
        assert_eq!(store.case(second.id).await.unwrap().assignee_id, Some(c.id));
        store
            .update_staff_profile(
                admin(),
                c.id,
                StaffProfile {
                    name: "孙丽华".into(),
                    ..profile_of(&c)
                },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(store.case(second.id).await.unwrap().assignee_id, Some(c.id));
    })
    .await;
}

/// Two handlers of a department who are not each other's A/B hold a post
/// each: the accepted cases go to whichever holds fewer open cases, so the
/// work is shared, not all given to the first.
#[tokio::test(flavor = "multi_thread")]
async fn the_handlers_of_a_department_share_its_cases() {
    for_each_backend(|store| async move {
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let clerk = person(
            &store,
            housing.id,
            "zj_clerk",
            "窗口吴敏",
            &[Role::WindowClerk],
        )
        .await;
        let first = person(
            &store,
            housing.id,
            "zj_handler_1",
            "承办郑涛",
            &[Role::Handler],
        )
        .await;
        let second = person(
            &store,
            housing.id,
            "zj_handler_2",
            "承办冯雪",
            &[Role::Handler],
        )
        .await;
        person(
            &store,
            housing.id,
            "zj_reviewer",
            "审核何平",
            &[Role::Reviewer],
        )
        .await;
        person(
            &store,
            housing.id,
            "zj_approver",
            "批准高峰",
            &[Role::Approver],
        )
        .await;
        let item = published_item(
            &store,
            housing.id,
            guide("000117003000", "建筑工程施工许可"),
        )
        .await;

        let mut assignees = Vec::new();
        for _ in 0..4 {
            let case = submit(&store, item.id).await;
            let accepted = act(&store, &clerk, &case, accept())
                .await
                .expect("accept")
                .case;
            assignees.push(accepted.assignee_id);
        }
        assert_eq!(
            assignees,
            [
                Some(first.id),
                Some(second.id),
                Some(first.id),
                Some(second.id)
            ]
        );
    })
    .await;
}
