//! The administrator's changes: a department's particulars, a window, a staff
//! member's profile, roles, e-mail and password — each audited, on every
//! backend.

mod common;

use common::*;
use onewindow_core::catalog::RegionLevel;
use onewindow_core::staff::Role;
use onewindow_store::StoreError;
use onewindow_store::admin::{DepartmentChanges, StaffProfile};
use onewindow_store::staff::NewStaff;
use sqlx::Row;

fn field_of(error: &StoreError) -> Option<&str> {
    match error {
        StoreError::Domain(e) => e.field(),
        _ => None,
    }
}

/// The action and object of the last audit entry.
async fn last_audit(store: &onewindow_store::Store) -> (String, String, serde_json::Value) {
    let row =
        sqlx::query("SELECT action, object_id, detail FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_one(store.pool())
            .await
            .expect("an audit entry");
    let detail: String = row.try_get("detail").unwrap();
    (
        row.try_get("action").unwrap(),
        row.try_get("object_id").unwrap(),
        serde_json::from_str(&detail).unwrap(),
    )
}

fn changes(name: &str) -> DepartmentChanges {
    DepartmentChanges {
        name: name.into(),
        level: RegionLevel::County,
        window_location: " 政务服务中心二楼C区 ".into(),
        phone: "0734-5822999".into(),
        address: "衡山县开云镇建设路8号".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_department_s_particulars_change_and_the_change_is_audited() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let entries = audit_entry_count(&store).await;
        let changed = store
            .update_department(admin(), market.id, changes("衡山县市场监管局"), now())
            .await
            .expect("update the department");
        assert_eq!(changed.name, "衡山县市场监管局");
        assert_eq!(changed.window_location, "政务服务中心二楼C区");
        assert_eq!(changed.code, "HSSJ", "the code stays");
        assert_eq!(changed.region_code, market.region_code);
        assert_eq!(store.department(market.id).await.unwrap(), changed);
        assert_eq!(audit_entry_count(&store).await, entries + 1);
        let (action, object, detail) = last_audit(&store).await;
        assert_eq!(action, "update_department");
        assert_eq!(object, market.id.to_string());
        assert_eq!(detail["from_name"], "衡山县市场监督管理局");

        // An empty name or an unknown department changes nothing.
        let refused = store
            .update_department(admin(), market.id, changes("  "), now())
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("name"));
        let missing = store
            .update_department(admin(), market.id + 100, changes("无此部门"), now())
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
        assert_eq!(audit_entry_count(&store).await, entries + 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_is_renamed_and_moved() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let id = store
            .create_window(admin(), market.id, "A01".into(), "一楼A区".into(), now())
            .await
            .unwrap();
        assert_eq!(last_audit(&store).await.0, "create_window");
        store
            .update_window(admin(), id, " A01综合窗口 ".into(), "一楼B区".into(), now())
            .await
            .expect("update the window");
        let windows = store.windows(Some(market.id)).await.unwrap();
        assert_eq!(windows[0].name, "A01综合窗口");
        assert_eq!(windows[0].location, "一楼B区");
        assert_eq!(last_audit(&store).await.0, "update_window");
        let refused = store
            .update_window(admin(), id, "".into(), "".into(), now())
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("name"));
        let missing = store
            .update_window(admin(), id + 100, "B01".into(), "".into(), now())
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
    })
    .await;
}

fn new_staff(department_id: i64, login: &str) -> NewStaff {
    NewStaff {
        login: login.into(),
        name: "李明".into(),
        department_id,
        roles: vec![Role::Handler],
        password: "hengshan-2026".into(),
        phone: "13807340001".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_is_created_with_an_e_mail_address_in_one_audited_job() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let member = store
            .create_staff_with_email(
                admin(),
                new_staff(market.id, "liming"),
                " li.ming@hengshan.gov.cn ".into(),
                now(),
            )
            .await
            .expect("create a person");
        assert_eq!(member.roles, vec![Role::Handler]);
        let emails = store.staff_emails(Some(market.id)).await.unwrap();
        assert_eq!(emails[&member.id], "li.ming@hengshan.gov.cn");
        let (action, object, detail) = last_audit(&store).await;
        assert_eq!(
            (action.as_str(), object),
            ("create_staff", member.id.to_string())
        );
        assert_eq!(detail["email"], true);
        // The new person logs in with the password given.
        store
            .log_in("liming", "hengshan-2026", now(), 1)
            .await
            .expect("log in");

        let entries = audit_entry_count(&store).await;
        for (new, email, field) in [
            (new_staff(market.id, "liming"), "", "login"),
            (new_staff(market.id, "other"), "li.ming", "email"),
            (
                NewStaff {
                    password: "short".into(),
                    ..new_staff(market.id, "other")
                },
                "",
                "password",
            ),
            (
                NewStaff {
                    roles: vec![],
                    ..new_staff(market.id, "other")
                },
                "",
                "roles",
            ),
            (new_staff(market.id + 100, "other"), "", "department_id"),
        ] {
            let refused = store
                .create_staff_with_email(admin(), new, email.into(), now())
                .await;
            assert_eq!(field_of(&refused.unwrap_err()), Some(field));
        }
        assert_eq!(audit_entry_count(&store).await, entries, "nothing written");
        assert_eq!(store.staff(Some(market.id)).await.unwrap().len(), 1);
    })
    .await;
}

fn profile(name: &str, roles: &[Role], email: &str) -> StaffProfile {
    StaffProfile {
        name: name.into(),
        roles: roles.to_vec(),
        phone: "13807340002".into(),
        email: email.into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_change_but_the_last_administrator_keeps_the_role() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let handler = person(&store, market.id, "liming", "李明", &[Role::Handler]).await;
        let admin_person = person(&store, market.id, "admin", "管理员", &[Role::Admin]).await;

        let changed = store
            .update_staff_profile(
                admin(),
                handler.id,
                profile(
                    "李明明",
                    &[Role::Handler, Role::Reviewer],
                    "li@hengshan.gov.cn",
                ),
                now(),
            )
            .await
            .expect("change the profile");
        assert_eq!(changed.member.name, "李明明");
        assert_eq!(changed.member.roles, vec![Role::Handler, Role::Reviewer]);
        assert_eq!(changed.member.phone, "13807340002");
        assert_eq!(
            store.staff_emails(None).await.unwrap()[&handler.id],
            "li@hengshan.gov.cn"
        );
        let (action, _, detail) = last_audit(&store).await;
        assert_eq!(action, "update_staff");
        assert_eq!(detail["from_roles"], "handler");
        assert_eq!(detail["roles"], "handler,reviewer");

        // The only administrator cannot lose the role ...
        let refused = store
            .update_staff_profile(
                admin(),
                admin_person.id,
                profile("管理员", &[Role::Handler], ""),
                now(),
            )
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("roles"));
        assert_eq!(
            store.staff_member(admin_person.id).await.unwrap().roles,
            vec![Role::Admin]
        );
        // ... until someone else holds it (a security admin does not count).
        store
            .update_staff_profile(
                admin(),
                handler.id,
                profile("李明明", &[Role::SecurityAdmin], ""),
                now(),
            )
            .await
            .unwrap();
        assert!(
            store
                .update_staff_profile(
                    admin(),
                    admin_person.id,
                    profile("管理员", &[Role::Handler], ""),
                    now()
                )
                .await
                .is_err()
        );
        store
            .update_staff_profile(
                admin(),
                handler.id,
                profile("李明明", &[Role::Admin], ""),
                now(),
            )
            .await
            .unwrap();
        store
            .update_staff_profile(
                admin(),
                admin_person.id,
                profile("管理员", &[Role::Handler], ""),
                now(),
            )
            .await
            .expect("another administrator remains");
        // Cleared e-mail addresses are no longer listed.
        assert!(
            !store
                .staff_emails(None)
                .await
                .unwrap()
                .contains_key(&handler.id)
        );

        for (bad, field) in [
            (profile(" ", &[Role::Handler], ""), "name"),
            (profile("李明", &[], ""), "roles"),
            (profile("李明", &[Role::Handler], "not an address"), "email"),
        ] {
            let refused = store
                .update_staff_profile(admin(), handler.id, bad, now())
                .await;
            assert_eq!(field_of(&refused.unwrap_err()), Some(field));
        }
        assert!(matches!(
            store
                .update_staff_profile(
                    admin(),
                    handler.id + 100,
                    profile("无此人", &[Role::Handler], ""),
                    now()
                )
                .await,
            Err(StoreError::NotFound { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_password_ends_the_person_s_sessions() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let handler = person(&store, market.id, "liming", "李明", &[Role::Handler]).await;
        let (token, _) = store
            .log_in("liming", FIXTURE_PASSWORD, now(), 12)
            .await
            .expect("log in with the old password");
        assert!(store.session(&token, now()).await.unwrap().is_some());

        let ended = store
            .reset_password(admin(), handler.id, "a new one 2026".into(), now())
            .await
            .expect("reset the password");
        assert_eq!(ended, 1);
        assert!(store.session(&token, now()).await.unwrap().is_none());
        assert!(
            store
                .log_in("liming", FIXTURE_PASSWORD, now(), 12)
                .await
                .is_err()
        );
        store
            .log_in("liming", "a new one 2026", now(), 12)
            .await
            .expect("log in with the new password");
        let (action, object, _) = last_audit(&store).await;
        // The log-in after the reset is audited too; the reset comes before it.
        assert_eq!(action, "log_in");
        assert_eq!(object, handler.id.to_string());
        let reset = sqlx::query(
            "SELECT detail FROM audit_log WHERE action = 'reset_password' AND object_id = $1",
        )
        .bind(handler.id.to_string())
        .fetch_one(store.pool())
        .await
        .expect("the reset is audited");
        let reset: String = reset.try_get("detail").unwrap();
        assert!(reset.contains("\"sessions_ended\":1"), "{reset}");
        assert!(!reset.contains("a new one"), "no password in the audit log");

        let short = store
            .reset_password(admin(), handler.id, "short".into(), now())
            .await;
        assert_eq!(field_of(&short.unwrap_err()), Some("password"));
        assert!(matches!(
            store
                .reset_password(admin(), handler.id + 100, "long enough".into(), now())
                .await,
            Err(StoreError::NotFound { .. })
        ));
    })
    .await;
}
