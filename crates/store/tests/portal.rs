//! Announcements, appointments and the most-applied items, on SQLite and
//! PostgreSQL.

mod common;

use common::*;
use jiff::civil::{Date, date};
use onewindow_core::appointment::{BookingRequest, bookable_days};
use onewindow_core::calendar::WeekendCalendar;
use onewindow_store::portal::NewAnnouncement;
use onewindow_store::{Store, StoreError};

/// A Friday: bookable days run Monday 7 to Friday 18 December 2026.
const TODAY: Date = date(2026, 12, 4);

fn booking(day: &str, slot: &str, name: &str) -> onewindow_core::appointment::Booking {
    BookingRequest {
        day: day.into(),
        slot: slot.into(),
        name: name.into(),
        phone: "13807341234".into(),
        note: "带齐原件".into(),
    }
    .check(&WeekendCalendar, TODAY)
    .expect("a valid booking")
}

fn field_of(error: StoreError) -> String {
    match error {
        StoreError::Domain(e) => e.field().unwrap_or_default().to_string(),
        other => panic!("expected a domain error, got {other:?}"),
    }
}

#[tokio::test]
async fn announcements_are_published_pinned_first_and_withdrawn() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let publish = |title: &str, pinned: bool| {
            let store: Store = store.clone();
            let new = NewAnnouncement {
                title: title.into(),
                body: "自12月1日起，不动产登记窗口延长服务时间。".into(),
                pinned,
            };
            let author = world.clerk.id;
            async move {
                store
                    .publish_announcement(admin(), author, new, now())
                    .await
            }
        };
        let first = publish("关于调整不动产登记窗口服务时间的通知", false)
            .await
            .unwrap();
        let pinned = publish("元旦假期政务服务中心工作安排", true).await.unwrap();
        let latest = publish(" 关于启用新版办事指南的公告 ", false)
            .await
            .unwrap();
        assert_eq!(
            latest.title, "关于启用新版办事指南的公告",
            "titles are trimmed"
        );

        let listed: Vec<i64> = store
            .announcements(false, 10)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(listed, [pinned.id, latest.id, first.id]);

        store
            .withdraw_announcement(admin(), first.id, now())
            .await
            .unwrap();
        let listed: Vec<i64> = store
            .announcements(false, 10)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(listed, [pinned.id, latest.id]);
        assert_eq!(store.announcements(true, 10).await.unwrap().len(), 3);
        assert!(
            store
                .announcement(first.id)
                .await
                .unwrap()
                .withdrawn_at
                .is_some()
        );
        // Withdrawing twice finds nothing to withdraw.
        assert!(matches!(
            store.withdraw_announcement(admin(), first.id, now()).await,
            Err(StoreError::NotFound { .. })
        ));

        let before = audit_entry_count(&store).await;
        let empty = publish("   ", false).await.unwrap_err();
        assert_eq!(field_of(empty), "title");
        assert_eq!(audit_entry_count(&store).await, before, "nothing written");
    })
    .await;
}

#[tokio::test]
async fn a_slot_takes_bookings_up_to_its_capacity_and_cancellations_free_places() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let item = world.item.id;
        let a = store
            .book_appointment(item, booking("2026-12-07", "0930", "刘洋"), 2, now())
            .await
            .unwrap();
        assert!(a.code.starts_with("YY20261207-"), "{}", a.code);
        assert_eq!(a.slot_label(), "上午 9:30—10:30");
        assert_eq!(a.department_id, world.department.id);
        store
            .book_appointment(item, booking("2026-12-07", "0930", "陈静"), 2, now())
            .await
            .unwrap();

        let full = store
            .book_appointment(item, booking("2026-12-07", "0930", "王芳"), 2, now())
            .await
            .unwrap_err();
        assert_eq!(field_of(full), "slot");
        // Another slot of the same day still has room.
        store
            .book_appointment(item, booking("2026-12-07", "1430", "王芳"), 2, now())
            .await
            .unwrap();

        let days = bookable_days(&WeekendCalendar, TODAY);
        let held = store
            .slot_bookings(world.department.id, days[0], *days.last().unwrap())
            .await
            .unwrap();
        assert_eq!(held[&(date(2026, 12, 7), "0930".to_string())], 2);
        assert_eq!(held[&(date(2026, 12, 7), "1430".to_string())], 1);

        // The applicant looks the booking up by code and phone, any letter case.
        let found = store
            .appointment(&a.code.to_lowercase(), "13807341234")
            .await
            .unwrap();
        assert_eq!(found.name, "刘洋");
        assert!(matches!(
            store.appointment(&a.code, "13900000000").await,
            Err(StoreError::NotFound { .. })
        ));

        let cancelled = store
            .cancel_appointment(&a.code, "13807341234", TODAY, now())
            .await
            .unwrap();
        assert!(cancelled.cancelled_at.is_some());
        let again = store
            .cancel_appointment(&a.code, "13807341234", TODAY, now())
            .await
            .unwrap_err();
        assert_eq!(field_of(again), "code");
        // The freed place can be booked again.
        store
            .book_appointment(item, booking("2026-12-07", "0930", "王芳"), 2, now())
            .await
            .unwrap();

        let day = store
            .appointments_on(world.department.id, date(2026, 12, 7))
            .await
            .unwrap();
        let names: Vec<(&str, bool)> = day
            .iter()
            .map(|a| (a.name.as_str(), a.cancelled_at.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("刘洋", true),
                ("陈静", false),
                ("王芳", false),
                ("王芳", false)
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn the_day_itself_cannot_be_cancelled_online_and_drafts_take_no_bookings() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let a = store
            .book_appointment(
                world.item.id,
                booking("2026-12-07", "0830", "刘洋"),
                4,
                now(),
            )
            .await
            .unwrap();
        let late = store
            .cancel_appointment(&a.code, "13807341234", date(2026, 12, 7), now())
            .await
            .unwrap_err();
        assert_eq!(field_of(late), "code");

        let draft = store
            .create_item(
                admin(),
                world.department.id,
                guide("000117001999", "草稿事项"),
                now(),
            )
            .await
            .unwrap();
        let refused = store
            .book_appointment(draft.id, booking("2026-12-07", "0830", "刘洋"), 4, now())
            .await
            .unwrap_err();
        assert!(matches!(
            refused,
            StoreError::Domain(onewindow_core::DomainError::ItemNotPublished)
        ));
    })
    .await;
}

#[tokio::test]
async fn most_applied_items_count_recent_applications() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let other = published_item(
            &store,
            world.department.id,
            guide("000117002000", "食品经营许可（变更）"),
        )
        .await;
        for _ in 0..3 {
            submit(&store, world.item.id).await;
        }
        submit(&store, other.id).await;
        let top = store.most_applied_items(later(-24), 10).await.unwrap();
        assert_eq!(top, [(world.item.id, 3), (other.id, 1)]);
        assert!(
            store
                .most_applied_items(later(24), 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
