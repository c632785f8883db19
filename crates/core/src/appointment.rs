//! Appointments for a visit to a department's window (预约办理): the hall's
//! time slots, the days that can be booked, and the checks of a booking.

use jiff::civil::Date;

use crate::FieldError;
use crate::calendar::WorkCalendar;
use crate::case::is_phone;

/// A bookable hour of the hall's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Stable key, e.g. "0830".
    pub key: &'static str,
    /// As people read it, e.g. "上午 8:30—9:30".
    pub label: &'static str,
}

/// The hall's slots, following its office hours (8:30–12:00, 14:30–17:30).
pub const SLOTS: [Slot; 6] = [
    Slot {
        key: "0830",
        label: "上午 8:30—9:30",
    },
    Slot {
        key: "0930",
        label: "上午 9:30—10:30",
    },
    Slot {
        key: "1030",
        label: "上午 10:30—12:00",
    },
    Slot {
        key: "1430",
        label: "下午 14:30—15:30",
    },
    Slot {
        key: "1530",
        label: "下午 15:30—16:30",
    },
    Slot {
        key: "1630",
        label: "下午 16:30—17:30",
    },
];

/// How many working days ahead a visit can be booked.
pub const BOOKING_HORIZON: usize = 10;

/// The slot of a key.
pub fn slot(key: &str) -> Option<Slot> {
    SLOTS.iter().copied().find(|s| s.key == key.trim())
}

/// The days a visit can be booked on, seen on `today`: the next
/// [`BOOKING_HORIZON`] working days, from tomorrow (the hall does not book
/// for the same day: walk-ins are served then).
pub fn bookable_days(calendar: &(impl WorkCalendar + ?Sized), today: Date) -> Vec<Date> {
    (1..=BOOKING_HORIZON as u32)
        .map(|n| calendar.add_working_days(today, n))
        .collect()
}

/// What a person books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub day: String,
    pub slot: String,
    pub name: String,
    pub phone: String,
    pub note: String,
}

/// A checked booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub day: Date,
    pub slot: Slot,
    pub name: String,
    pub phone: String,
    pub note: String,
}

impl BookingRequest {
    /// Checks every field against the days bookable `today`; returns all
    /// problems at once.
    pub fn check(
        &self,
        calendar: &(impl WorkCalendar + ?Sized),
        today: Date,
    ) -> Result<Booking, Vec<FieldError>> {
        let mut errors = Vec::new();
        let day = match self.day.trim().parse::<Date>() {
            Ok(day) if bookable_days(calendar, today).contains(&day) => Some(day),
            Ok(_) => {
                errors.push(FieldError::new(
                    "day",
                    format!("只能预约今后{BOOKING_HORIZON}个工作日内的日期"),
                ));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("day", "请选择预约日期"));
                None
            }
        };
        let slot = slot(&self.slot);
        if slot.is_none() {
            errors.push(FieldError::new("slot", "请选择预约时段"));
        }
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "请填写姓名"));
        } else if name.chars().count() > 50 {
            errors.push(FieldError::new("name", "姓名不得超过50字"));
        }
        let phone = self.phone.trim();
        if !is_phone(phone) {
            errors.push(FieldError::new("phone", "请填写有效的手机或固定电话号码"));
        }
        if self.note.chars().count() > 200 {
            errors.push(FieldError::new("note", "备注不得超过200字"));
        }
        match (day, slot) {
            (Some(day), Some(slot)) if errors.is_empty() => Ok(Booking {
                day,
                slot,
                name: name.to_string(),
                phone: phone.to_string(),
                note: self.note.trim().to_string(),
            }),
            _ => Err(errors),
        }
    }
}

/// The booking code read out at the window: "YY" + the day + the booking's
/// number, e.g. `YY20261207-0003`.
pub fn booking_code(day: Date, id: i64) -> String {
    format!("YY{}-{id:04}", day.strftime("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WeekendCalendar;
    use jiff::civil::date;

    fn request(day: &str, slot: &str) -> BookingRequest {
        BookingRequest {
            day: day.into(),
            slot: slot.into(),
            name: "刘洋".into(),
            phone: "13807341234".into(),
            note: String::new(),
        }
    }

    #[test]
    fn bookable_days_are_the_next_ten_working_days() {
        // Friday 2026-12-04: Monday 7th to Friday 18th.
        let days = bookable_days(&WeekendCalendar, date(2026, 12, 4));
        assert_eq!(days.len(), 10);
        assert_eq!(days[0], date(2026, 12, 7));
        assert_eq!(days[9], date(2026, 12, 18));
        assert!(days.iter().all(|d| WeekendCalendar.is_working_day(*d)));
    }

    #[test]
    fn a_booking_on_a_bookable_day_and_slot_passes() {
        let booking = request("2026-12-07", "1430")
            .check(&WeekendCalendar, date(2026, 12, 4))
            .unwrap();
        assert_eq!(booking.slot.label, "下午 14:30—15:30");
        assert_eq!(booking_code(booking.day, 3), "YY20261207-0003");
    }

    #[test]
    fn today_weekends_and_far_days_are_refused_with_every_problem() {
        let today = date(2026, 12, 4);
        for day in ["2026-12-04", "2026-12-05", "2026-12-21", "2026-13-01"] {
            let errors = request(day, "0830")
                .check(&WeekendCalendar, today)
                .unwrap_err();
            assert_eq!(errors[0].field, "day", "{day}");
        }
        let mut bad = request("2026-12-07", "1200");
        bad.name = " ".into();
        bad.phone = "12".into();
        let errors = bad.check(&WeekendCalendar, today).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["slot", "name", "phone"]);
    }
}
