//! Small read caches for the command path, so deciding a command costs one
//! query (the case with its item version and assignee) instead of five.
//!
//! - Items are cached by id and used only while their version matches the one
//!   read with the case: always current, on one node or many.
//! - Post holders (who gets a step), staff names and departments' region
//!   codes change rarely; they are
//!   dropped on every staff change made through this store and otherwise live
//!   for [`STAFF_TTL`], which bounds how long another node's change can go
//!   unseen.
//! - The audit head as last written by a case transition or application here, so a
//!   transition need not read it first; the write checks it is still the head
//!   (another writer, or any other audit entry, moves it) and is retried with
//!   the head read afresh when it is not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onewindow_core::staff::Role;

use crate::catalog::ServiceItem;

pub(crate) const STAFF_TTL: Duration = Duration::from_secs(5);

/// A cached value and when it was read.
type Fresh<T> = (Instant, T);

/// A post: a role in a department.
type Post = (i64, Role);

#[derive(Default)]
pub(crate) struct Caches {
    items: Mutex<HashMap<i64, Arc<ServiceItem>>>,
    holders: Mutex<HashMap<Post, Fresh<Vec<i64>>>>,
    names: Mutex<HashMap<i64, Fresh<String>>>,
    /// Departments' region codes (the calendar their deadlines count on).
    regions: Mutex<HashMap<i64, Fresh<String>>>,
    /// The audit chain's head (seq, hash) after this process's last case
    /// transition; a write guards on it and a mismatch drops it.
    audit_head: Mutex<Option<(i64, String)>>,
}

impl Caches {
    pub(crate) fn item(&self, id: i64, version: i64) -> Option<Arc<ServiceItem>> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items
            .get(&id)
            .filter(|item| item.version == version)
            .cloned()
    }

    pub(crate) fn put_item(&self, item: Arc<ServiceItem>) {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(item.id, item);
    }

    pub(crate) fn holders(&self, department_id: i64, role: Role) -> Option<Vec<i64>> {
        let holders = self.holders.lock().unwrap_or_else(|e| e.into_inner());
        holders
            .get(&(department_id, role))
            .filter(|(at, _)| at.elapsed() < STAFF_TTL)
            .map(|(_, ids)| ids.clone())
    }

    pub(crate) fn put_holders(&self, department_id: i64, role: Role, holders: Vec<i64>) {
        self.holders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((department_id, role), (Instant::now(), holders));
    }

    pub(crate) fn name(&self, staff_id: i64) -> Option<String> {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names
            .get(&staff_id)
            .filter(|(at, _)| at.elapsed() < STAFF_TTL)
            .map(|(_, name)| name.clone())
    }

    pub(crate) fn put_name(&self, staff_id: i64, name: String) {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(staff_id, (Instant::now(), name));
    }

    pub(crate) fn region(&self, department_id: i64) -> Option<String> {
        let regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        regions
            .get(&department_id)
            .filter(|(at, _)| at.elapsed() < STAFF_TTL)
            .map(|(_, region)| region.clone())
    }

    pub(crate) fn put_region(&self, department_id: i64, region: String) {
        self.regions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(department_id, (Instant::now(), region));
    }

    pub(crate) fn audit_head(&self) -> Option<(i64, String)> {
        self.audit_head
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_audit_head(&self, head: Option<(i64, String)>) {
        *self.audit_head.lock().unwrap_or_else(|e| e.into_inner()) = head;
    }

    /// Forgets what depends on the staff table.
    pub(crate) fn staff_changed(&self) {
        self.holders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.names.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
