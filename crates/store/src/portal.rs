//! The public portal's own records: the hall's announcements (通知公告),
//! appointments booked for a visit to a department's window (预约办理), and
//! the items people apply for most.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::DomainError;
use onewindow_core::appointment::{Booking, booking_code, slot};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Entry};
use crate::db::{Backend, from_micros, micros};
use crate::{Store, StoreError};

/// An announcement as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub author_id: i64,
    pub published_at: Timestamp,
    pub withdrawn_at: Option<Timestamp>,
}

/// What an administrator publishes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewAnnouncement {
    pub title: String,
    pub body: String,
    pub pinned: bool,
}

impl NewAnnouncement {
    fn checked(self) -> Result<NewAnnouncement, StoreError> {
        let title = self.title.trim().to_string();
        let body = self.body.trim().to_string();
        if title.is_empty() {
            return Err(DomainError::invalid("title", "请填写公告标题").into());
        }
        if title.chars().count() > 100 {
            return Err(DomainError::invalid("title", "公告标题不得超过100字").into());
        }
        if body.is_empty() {
            return Err(DomainError::invalid("body", "请填写公告正文").into());
        }
        if body.chars().count() > 10_000 {
            return Err(DomainError::invalid("body", "公告正文不得超过10000字").into());
        }
        Ok(NewAnnouncement {
            title,
            body,
            pinned: self.pinned,
        })
    }
}

/// An appointment as booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: i64,
    pub code: String,
    pub item_id: i64,
    pub department_id: i64,
    pub day: Date,
    /// The slot's key; `onewindow_core::appointment::slot` gives its label.
    pub slot: String,
    pub name: String,
    pub phone: String,
    pub note: String,
    pub booked_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
}

impl Appointment {
    pub fn slot_label(&self) -> &'static str {
        slot(&self.slot).map(|s| s.label).unwrap_or("")
    }
}

const ANNOUNCEMENT_COLUMNS: &str = "id, title, body, pinned, author_id, published_at, withdrawn_at";
const APPOINTMENT_COLUMNS: &str =
    "id, code, item_id, department_id, day, slot, name, phone, note, booked_at, cancelled_at";

fn announcement_from(row: &AnyRow) -> Result<Announcement, StoreError> {
    Ok(Announcement {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        pinned: row.try_get::<i64, _>("pinned")? != 0,
        author_id: row.try_get("author_id")?,
        published_at: from_micros(row.try_get("published_at")?)?,
        withdrawn_at: row
            .try_get::<Option<i64>, _>("withdrawn_at")?
            .map(from_micros)
            .transpose()?,
    })
}

fn appointment_from(row: &AnyRow) -> Result<Appointment, StoreError> {
    let day: String = row.try_get("day")?;
    Ok(Appointment {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        item_id: row.try_get("item_id")?,
        department_id: row.try_get("department_id")?,
        day: day.parse().map_err(StoreError::backend)?,
        slot: row.try_get("slot")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        note: row.try_get("note")?,
        booked_at: from_micros(row.try_get("booked_at")?)?,
        cancelled_at: row
            .try_get::<Option<i64>, _>("cancelled_at")?
            .map(from_micros)
            .transpose()?,
    })
}

impl Store {
    // -----------------------------------------------------------------------
    // Announcements.

    /// Publishes an announcement by `author_id`.
    pub async fn publish_announcement(
        &self,
        actor: String,
        author_id: i64,
        new: NewAnnouncement,
        now: Timestamp,
    ) -> Result<Announcement, StoreError> {
        let new = new.checked()?;
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO announcements (title, body, pinned, author_id, published_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING {ANNOUNCEMENT_COLUMNS}"
                )))
                .bind(&new.title)
                .bind(&new.body)
                .bind(i64::from(new.pinned))
                .bind(author_id)
                .bind(micros(now))
                .fetch_one(&mut *conn)
                .await?;
                let announcement = announcement_from(&row)?;
                let detail =
                    serde_json::json!({ "title": announcement.title, "pinned": new.pinned });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "announcement.publish",
                        object_kind: "announcement",
                        object_id: &announcement.id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(announcement)
            })
        })
        .await
    }

    /// Withdraws a published announcement; it leaves the portal but stays on
    /// record.
    pub async fn withdraw_announcement(
        &self,
        actor: String,
        id: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE announcements SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL",
                )
                .bind(micros(now))
                .bind(id)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound {
                        what: "announcement",
                    });
                }
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "announcement.withdraw",
                        object_kind: "announcement",
                        object_id: &id.to_string(),
                        detail: &serde_json::json!({}),
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Announcements, pinned first, newest first; withdrawn ones only when
    /// asked for (the admin's list).
    pub async fn announcements(
        &self,
        with_withdrawn: bool,
        limit: i64,
    ) -> Result<Vec<Announcement>, StoreError> {
        let filter = if with_withdrawn {
            ""
        } else {
            "WHERE withdrawn_at IS NULL"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements {filter} \
             ORDER BY pinned DESC, published_at DESC, id DESC LIMIT $1"
        )))
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(announcement_from).collect()
    }

    /// One announcement, withdrawn or not.
    pub async fn announcement(&self, id: i64) -> Result<Announcement, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound {
            what: "announcement",
        })?;
        announcement_from(&row)
    }

    // -----------------------------------------------------------------------
    // Appointments.

    /// Books `booking` at the window of `item_id`'s department, if its slot
    /// has fewer than `capacity` bookings on that day. The count and the
    /// insert run in one job of the writer, so two people cannot take the
    /// last place together; on PostgreSQL, where each node runs a writer, the
    /// job first locks the department's row, so that bookings for it from
    /// several nodes take turns and each count sees the others' inserts.
    pub async fn book_appointment(
        &self,
        item_id: i64,
        booking: Booking,
        capacity: u32,
        now: Timestamp,
    ) -> Result<Appointment, StoreError> {
        let item = self.item(item_id).await?;
        if item.status != onewindow_core::catalog::ItemStatus::Published {
            return Err(DomainError::ItemNotPublished.into());
        }
        let department_id = item.department_id;
        let backend = self.backend();
        self.write(move |conn| {
            Box::pin(async move {
                if backend == Backend::Postgres {
                    sqlx::query("SELECT id FROM departments WHERE id = $1 FOR UPDATE")
                        .bind(department_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                }
                let day = booking.day.to_string();
                let taken: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM appointments \
                     WHERE department_id = $1 AND day = $2 AND slot = $3 AND cancelled_at IS NULL",
                )
                .bind(department_id)
                .bind(&day)
                .bind(booking.slot.key)
                .fetch_one(&mut *conn)
                .await?
                .try_get("n")?;
                if taken >= i64::from(capacity) {
                    return Err(DomainError::invalid(
                        "slot",
                        format!(
                            "{} {} 的预约已满，请选择其他时段",
                            booking.day,
                            booking.slot.label
                        ),
                    )
                    .into());
                }
                // The code needs the row's id: insert with a placeholder code
                // (unique while the department's bookings take turns), then
                // set it.
                let id: i64 = sqlx::query(
                    "INSERT INTO appointments \
                     (code, item_id, department_id, day, slot, name, phone, note, booked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(format!("pending-{department_id}-{}", micros(now)))
                .bind(item_id)
                .bind(department_id)
                .bind(&day)
                .bind(booking.slot.key)
                .bind(&booking.name)
                .bind(&booking.phone)
                .bind(&booking.note)
                .bind(micros(now))
                .fetch_one(&mut *conn)
                .await?
                .try_get("id")?;
                let code = booking_code(booking.day, id);
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE appointments SET code = $1 WHERE id = $2 RETURNING {APPOINTMENT_COLUMNS}"
                )))
                .bind(&code)
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
                let detail = serde_json::json!({
                    "code": code, "item_id": item_id, "day": day, "slot": booking.slot.key,
                });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: "applicant",
                        action: "appointment.book",
                        object_kind: "appointment",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                appointment_from(&row)
            })
        })
        .await
    }

    /// The appointment `code`, when `phone` is the one it was booked with.
    pub async fn appointment(&self, code: &str, phone: &str) -> Result<Appointment, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE code = $1 AND phone = $2"
        )))
        .bind(code.trim().to_uppercase())
        .bind(phone.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound {
            what: "appointment",
        })?;
        appointment_from(&row)
    }

    /// Cancels the appointment `code` booked with `phone`, before its day.
    pub async fn cancel_appointment(
        &self,
        code: &str,
        phone: &str,
        today: Date,
        now: Timestamp,
    ) -> Result<Appointment, StoreError> {
        let appointment = self.appointment(code, phone).await?;
        if appointment.cancelled_at.is_some() {
            return Err(DomainError::invalid("code", "该预约已取消").into());
        }
        if appointment.day <= today {
            return Err(DomainError::invalid(
                "code",
                "预约当天及以后不能在网上取消，请直接联系窗口",
            )
            .into());
        }
        let id = appointment.id;
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE appointments SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL",
                )
                .bind(micros(now))
                .bind(id)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(DomainError::invalid("code", "该预约已取消").into());
                }
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: "applicant",
                        action: "appointment.cancel",
                        object_kind: "appointment",
                        object_id: &id.to_string(),
                        detail: &serde_json::json!({}),
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(Appointment {
            cancelled_at: Some(now),
            ..appointment
        })
    }

    /// Bookings held per (day, slot key) at a department's window, over
    /// `from..=to`.
    pub async fn slot_bookings(
        &self,
        department_id: i64,
        from: Date,
        to: Date,
    ) -> Result<HashMap<(Date, String), i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, slot, COUNT(*) AS n FROM appointments \
             WHERE department_id = $1 AND day >= $2 AND day <= $3 AND cancelled_at IS NULL \
             GROUP BY day, slot",
        )
        .bind(department_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut held = HashMap::new();
        for row in rows {
            let day: String = row.try_get("day")?;
            held.insert(
                (
                    day.parse().map_err(StoreError::backend)?,
                    row.try_get("slot")?,
                ),
                row.try_get("n")?,
            );
        }
        Ok(held)
    }

    /// The appointments of a department's window on `day`, by slot,
    /// cancelled ones included (the clerk sees them struck through).
    pub async fn appointments_on(
        &self,
        department_id: i64,
        day: Date,
    ) -> Result<Vec<Appointment>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments \
             WHERE department_id = $1 AND day = $2 ORDER BY slot, id"
        )))
        .bind(department_id)
        .bind(day.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(appointment_from).collect()
    }

    // -----------------------------------------------------------------------
    // What people apply for.

    /// The items with the most applications received since `since`, most
    /// first: (item id, applications).
    pub async fn most_applied_items(
        &self,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT item_id, COUNT(*) AS n FROM cases WHERE submitted_at >= $1 \
             GROUP BY item_id ORDER BY n DESC, item_id LIMIT $2",
        )
        .bind(micros(since))
        .bind(limit.clamp(1, 100))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("item_id")?, r.try_get("n")?)))
            .collect()
    }
}
