//! onewindow-core: the pure domain of a government service hall with electronic
//! supervision. Nothing here reads a clock, a file or a database: the current
//! time and the calendar are arguments, so every rule is reproducible in a test.

pub mod appointment;
pub mod audit;
pub mod calendar;
pub mod card;
pub mod case;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod rating;
pub mod staff;
pub mod supervision;

pub use error::{DomainError, FieldError};
