//! The applicant's rating of a finished case (好差评, R8.1): five grades
//! from very satisfied to very dissatisfied; a poor grade must say why, so
//! the department can put it right.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Grades 1 (非常不满意) to 5 (非常满意).
pub const GRADES: [(u8, &str); 5] = [
    (5, "非常满意"),
    (4, "满意"),
    (3, "基本满意"),
    (2, "不满意"),
    (1, "非常不满意"),
];

/// The label of a grade, e.g. 满意.
pub fn grade_label(score: u8) -> &'static str {
    GRADES
        .iter()
        .find(|(s, _)| *s == score)
        .map_or("", |(_, label)| label)
}

/// Whether a grade is a poor one (差评): the department answers for it.
pub fn is_poor(score: u8) -> bool {
    score <= 2
}

/// A rating as the applicant gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub score: u8,
    #[serde(default)]
    pub comment: String,
}

impl Rating {
    /// Checks the rating; the comment comes back trimmed.
    pub fn validated(&self) -> Result<Rating, DomainError> {
        if !(1..=5).contains(&self.score) {
            return Err(DomainError::invalid(
                "score",
                "请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意",
            ));
        }
        let comment = self.comment.trim().to_string();
        if is_poor(self.score) && comment.is_empty() {
            return Err(DomainError::invalid(
                "comment",
                "请说明不满意的原因，我们将督促办理部门整改",
            ));
        }
        if comment.chars().count() > 500 {
            return Err(DomainError::invalid("comment", "评价内容不能超过500字"));
        }
        Ok(Rating {
            score: self.score,
            comment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poor_grade_must_say_why() {
        let poor = Rating {
            score: 2,
            comment: "  ".into(),
        };
        assert_eq!(poor.validated().unwrap_err().field(), Some("comment"));
        let good = Rating {
            score: 5,
            comment: String::new(),
        };
        assert_eq!(good.validated().unwrap(), good);
        for score in [0, 6] {
            let bad = Rating {
                score,
                comment: "x".into(),
            };
            assert_eq!(bad.validated().unwrap_err().field(), Some("score"));
        }
        assert_eq!(grade_label(3), "基本满意");
        assert!(is_poor(1) && !is_poor(3));
    }
}
