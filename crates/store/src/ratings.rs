//! The applicant's rating of a finished case: stored once per case, written
//! with its timeline event and audit entry in one job.

use jiff::Timestamp;
use onewindow_core::DomainError;
use onewindow_core::case::CaseState;
use onewindow_core::rating::{Rating, grade_label};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Entry};
use crate::db::{from_micros, micros};
use crate::{Store, StoreError};

/// A rating as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRecord {
    pub case_id: i64,
    pub score: u8,
    pub label: String,
    pub comment: String,
    pub rated_at: Timestamp,
}

impl Store {
    /// The applicant of the case `number` (proved by the phone number)
    /// rates it, once, after it was completed.
    pub async fn rate_case(
        &self,
        number: &str,
        phone: &str,
        rating: Rating,
        now: Timestamp,
    ) -> Result<RatingRecord, StoreError> {
        let rating = rating.validated()?;
        let case = self.lookup_case(number, phone).await?;
        if case.facts.state != CaseState::Completed {
            return Err(DomainError::invalid("score", "办件办结后才能评价").into());
        }
        let case_id = case.id;
        let state = case.facts.state.key();
        let stored = rating.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let inserted = sqlx::query(
                    "INSERT INTO ratings (case_id, score, comment, rated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (case_id) DO NOTHING",
                )
                .bind(case_id)
                .bind(i64::from(rating.score))
                .bind(&rating.comment)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::Domain(DomainError::invalid(
                        "score",
                        "该办件已评价过，每件办件只能评价一次",
                    )));
                }
                let detail = serde_json::json!({
                    "score": rating.score, "grade": grade_label(rating.score),
                    "comment": rating.comment,
                });
                sqlx::query(
                    "INSERT INTO case_events (case_id, action, from_state, to_state, actor_id, at, detail) \
                     VALUES ($1, 'rate', $2, $2, NULL, $3, $4)",
                )
                .bind(case_id)
                .bind(state)
                .bind(micros(now))
                .bind(detail.to_string())
                .execute(&mut *conn)
                .await?;
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: "applicant",
                        action: "case.rate",
                        object_kind: "case",
                        object_id: &case_id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(RatingRecord {
            case_id,
            score: stored.score,
            label: grade_label(stored.score).to_string(),
            comment: stored.comment,
            rated_at: now,
        })
    }

    /// The rating of a case, if it was rated.
    pub async fn rating(&self, case_id: i64) -> Result<Option<RatingRecord>, StoreError> {
        let row = sqlx::query("SELECT score, comment, rated_at FROM ratings WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            let score = u8::try_from(r.try_get::<i64, _>("score")?).unwrap_or(0);
            Ok(RatingRecord {
                case_id,
                score,
                label: grade_label(score).to_string(),
                comment: r.try_get("comment")?,
                rated_at: from_micros(r.try_get("rated_at")?)?,
            })
        })
        .transpose()
    }
}
