//! The public portal beyond the catalog: the hall's announcements (with the
//! administrator's page to publish them) and appointments for a visit to a
//! department's window (booking, look-up and cancellation, and the window's
//! list of the day).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use jiff::civil::Date;
use onewindow_core::FieldError;
use onewindow_core::appointment::{BookingRequest, SLOTS, bookable_days};
use onewindow_core::calendar::civil_date;
use onewindow_core::staff::Role;
use onewindow_store::StoreError;
use onewindow_store::portal::{Appointment, NewAnnouncement};
use onewindow_store::staff::StaffMember;
use serde::Deserialize;

use super::{
    DoneQuery, Layout, SameOrigin, date_text, datetime_text, error_page, page_id, render,
    see_other, user_name,
};
use crate::AppState;
use crate::auth::{MaybeUser, PageUser, StaffUser};
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/announcements", get(announcements))
        .route("/announcements/{id}", get(announcement))
        .route("/items/{id}/appointment", get(booking_form).post(book))
        .route(
            "/appointments",
            get(appointment_lookup_form).post(appointment_lookup),
        )
        .route("/appointments/cancel", post(cancel))
        .route("/work/appointments", get(window_appointments))
        .route(
            "/admin/announcements",
            get(admin_announcements).post(publish),
        )
        .route("/admin/announcements/{id}/withdraw", post(withdraw))
}

/// The first error of each field, for showing next to it.
fn first_error(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

// ---------------------------------------------------------------------------
// Announcements.

pub struct AnnouncementRow {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub pinned: bool,
    pub withdrawn: bool,
}

#[derive(Template)]
#[template(path = "announcements.html")]
struct AnnouncementsPage {
    layout: Layout,
    rows: Vec<AnnouncementRow>,
}

#[derive(Template)]
#[template(path = "announcement.html")]
struct AnnouncementPage {
    layout: Layout,
    title: String,
    date: String,
    body: String,
}

async fn announcements(State(state): State<AppState>, user: MaybeUser) -> Response {
    let name = user_name(&user);
    match state.store.announcements(false, 200).await {
        Ok(list) => render(
            StatusCode::OK,
            &AnnouncementsPage {
                layout: Layout::new(&state, "通知公告", "home", name),
                rows: list
                    .into_iter()
                    .map(|a| AnnouncementRow {
                        id: a.id,
                        date: date_text(civil_date(a.published_at)),
                        title: a.title,
                        pinned: a.pinned,
                        withdrawn: false,
                    })
                    .collect(),
            },
        ),
        Err(e) => error_page(&state, name, &e.into()),
    }
}

async fn announcement(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Response {
    let name = user_name(&user);
    let not_found = || ApiError::not_found("未找到该公告，可能已撤下");
    let id = match page_id(&id, "未找到该公告") {
        Ok(id) => id,
        Err(e) => return error_page(&state, name, &e),
    };
    match state.store.announcement(id).await {
        Ok(a) if a.withdrawn_at.is_none() => render(
            StatusCode::OK,
            &AnnouncementPage {
                layout: Layout::new(&state, a.title.clone(), "home", name),
                date: datetime_text(a.published_at),
                title: a.title,
                body: a.body,
            },
        ),
        Ok(_) | Err(StoreError::NotFound { .. }) => error_page(&state, name, &not_found()),
        Err(e) => error_page(&state, name, &e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_announcements.html")]
struct AdminAnnouncementsPage {
    layout: Layout,
    rows: Vec<AnnouncementRow>,
    values: AnnouncementForm,
    errors: Vec<(String, String)>,
    flash: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AnnouncementForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub pinned: String,
}

/// The refusal page for anyone but an administrator.
fn unless_admin(state: &AppState, member: &StaffMember) -> Option<Response> {
    (!member.has(Role::Admin)).then(|| {
        let e = ApiError::forbidden("只有系统管理员可以发布和撤下通知公告");
        error_page(state, Some(member.name.clone()), &e)
    })
}

async fn admin_announcements_page(
    state: &AppState,
    member: &StaffMember,
    status: StatusCode,
    values: AnnouncementForm,
    errors: Vec<(String, String)>,
    flash: Option<String>,
) -> Response {
    match state.store.announcements(true, 500).await {
        Ok(list) => render(
            status,
            &AdminAnnouncementsPage {
                layout: Layout::new(state, "通知公告管理", "work", Some(member.name.clone())),
                rows: list
                    .into_iter()
                    .map(|a| AnnouncementRow {
                        id: a.id,
                        date: datetime_text(a.published_at),
                        title: a.title,
                        pinned: a.pinned,
                        withdrawn: a.withdrawn_at.is_some(),
                    })
                    .collect(),
                values,
                errors,
                flash,
            },
        ),
        Err(e) => error_page(state, Some(member.name.clone()), &e.into()),
    }
}

async fn admin_announcements(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<DoneQuery>,
) -> Response {
    if let Some(refused) = unless_admin(&state, &member) {
        return refused;
    }
    let flash = match query.done.as_str() {
        "published" => Some("公告已发布".to_string()),
        "withdrawn" => Some("公告已撤下".to_string()),
        _ => None,
    };
    admin_announcements_page(
        &state,
        &member,
        StatusCode::OK,
        AnnouncementForm::default(),
        vec![],
        flash,
    )
    .await
}

async fn publish(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Form(form): Form<AnnouncementForm>,
) -> Response {
    if let Some(refused) = unless_admin(&state, &member) {
        return refused;
    }
    let new = NewAnnouncement {
        title: form.title.clone(),
        body: form.body.clone(),
        pinned: !form.pinned.is_empty(),
    };
    match state
        .store
        .publish_announcement(
            StaffUser(member.clone()).scope(),
            member.id,
            new,
            state.now(),
        )
        .await
    {
        Ok(_) => see_other("/admin/announcements?done=published"),
        Err(StoreError::Domain(e)) => {
            let field = e.field().unwrap_or("title").to_string();
            let errors = vec![(field, e.message())];
            admin_announcements_page(
                &state,
                &member,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                None,
            )
            .await
        }
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

async fn withdraw(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = unless_admin(&state, &member) {
        return refused;
    }
    let result = match page_id(&id, "未找到该公告") {
        Ok(id) => state
            .store
            .withdraw_announcement(StaffUser(member.clone()).scope(), id, state.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => ApiError::not_found("未找到该公告，或已撤下"),
                e => e.into(),
            }),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => see_other("/admin/announcements?done=withdrawn"),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

// ---------------------------------------------------------------------------
// Appointments.

/// One cell of the booking grid: a slot on a day.
pub struct SlotCell {
    pub value: String,
    pub left: i64,
    pub checked: bool,
}

/// One row of the grid: a slot across the bookable days.
pub struct SlotRow {
    pub label: &'static str,
    pub cells: Vec<SlotCell>,
}

pub struct DayColumn {
    pub date: String,
    pub weekday: &'static str,
}

#[derive(Template)]
#[template(path = "appointment.html")]
struct BookingPage {
    layout: Layout,
    item_id: i64,
    item_name: String,
    department: String,
    location: String,
    capacity: u32,
    days: Vec<DayColumn>,
    rows: Vec<SlotRow>,
    values: BookingForm,
    errors: Vec<(String, String)>,
    slot_error: Option<String>,
}

#[derive(Template)]
#[template(path = "appointment_receipt.html")]
struct AppointmentPage {
    layout: Layout,
    booking: BookingView,
    just_booked: bool,
    flash: Option<String>,
    error: Option<String>,
}

pub struct BookingView {
    pub code: String,
    pub item_id: i64,
    pub item_name: String,
    pub department: String,
    pub location: String,
    pub day: String,
    pub slot: &'static str,
    pub name: String,
    pub phone: String,
    pub note: String,
    pub cancelled: bool,
    pub cancellable: bool,
}

#[derive(Template)]
#[template(path = "appointment_lookup.html")]
struct AppointmentLookupPage {
    layout: Layout,
    code: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BookingForm {
    /// "YYYY-MM-DD/slot key", from the grid's radio buttons.
    #[serde(default)]
    pub pick: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub note: String,
}

fn weekday_label(day: Date) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [day.weekday().to_monday_zero_offset() as usize]
}

/// Renders the booking page for `item_id` with `values` and `errors`.
async fn booking_page(
    state: &AppState,
    name: Option<String>,
    item_id: &str,
    status: StatusCode,
    values: BookingForm,
    errors: Vec<FieldError>,
) -> Response {
    let not_found = ApiError::not_found("未找到该事项，或该事项暂停办理");
    let Ok(id) = page_id(item_id, "未找到该事项") else {
        return error_page(state, name, &not_found);
    };
    let item = match state.store.item(id).await {
        Ok(item) if item.status == onewindow_core::catalog::ItemStatus::Published => item,
        Ok(_) | Err(StoreError::NotFound { .. }) => return error_page(state, name, &not_found),
        Err(e) => return error_page(state, name, &e.into()),
    };
    let department = match state.store.department(item.department_id).await {
        Ok(d) => d,
        Err(e) => return error_page(state, name, &e.into()),
    };
    let calendar = state.store.calendar_for(&department.region_code);
    let days = bookable_days(&*calendar, civil_date(state.now()));
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return error_page(state, name, &ApiError::internal("no bookable days"));
    };
    let held = match state
        .store
        .slot_bookings(department.id, *first, *last)
        .await
    {
        Ok(held) => held,
        Err(e) => return error_page(state, name, &e.into()),
    };
    let capacity = state.settings.appointment_capacity;
    let rows = SLOTS
        .iter()
        .map(|slot| SlotRow {
            label: slot.label,
            cells: days
                .iter()
                .map(|day| {
                    let value = format!("{day}/{}", slot.key);
                    let taken = held
                        .get(&(*day, slot.key.to_string()))
                        .copied()
                        .unwrap_or(0);
                    SlotCell {
                        checked: values.pick == value,
                        left: (i64::from(capacity) - taken).max(0),
                        value,
                    }
                })
                .collect(),
        })
        .collect();
    let slot_error = first_error(&errors, "day").or_else(|| first_error(&errors, "slot"));
    let page = BookingPage {
        layout: Layout::new(
            state,
            format!("预约办理：{}", item.guide.name),
            "home",
            name,
        ),
        item_id: item.id,
        item_name: item.guide.name.clone(),
        department: department.name.clone(),
        location: item.guide.location.clone(),
        capacity,
        days: days
            .iter()
            .map(|d| DayColumn {
                date: format!("{}月{}日", d.month(), d.day()),
                weekday: weekday_label(*d),
            })
            .collect(),
        rows,
        errors: errors
            .iter()
            .filter(|e| e.field != "day" && e.field != "slot")
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect(),
        slot_error,
        values,
    };
    render(status, &page)
}

async fn booking_form(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Response {
    booking_page(
        &state,
        user_name(&user),
        &id,
        StatusCode::OK,
        BookingForm::default(),
        vec![],
    )
    .await
}

async fn book(
    _: SameOrigin,
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(form): Form<BookingForm>,
) -> Response {
    let name = user_name(&user);
    let Ok(item_id) = page_id(&id, "未找到该事项") else {
        return error_page(&state, name, &ApiError::not_found("未找到该事项"));
    };
    let item = match state.store.item(item_id).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    let region = match state.store.department(item.department_id).await {
        Ok(d) => d.region_code,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    let (day, slot) = form.pick.split_once('/').unwrap_or(("", ""));
    let request = BookingRequest {
        day: day.to_string(),
        slot: slot.to_string(),
        name: form.name.clone(),
        phone: form.phone.clone(),
        note: form.note.clone(),
    };
    let calendar = state.store.calendar_for(&region);
    let booking = match request.check(&*calendar, civil_date(state.now())) {
        Ok(booking) => booking,
        Err(errors) => {
            return booking_page(
                &state,
                name,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
            )
            .await;
        }
    };
    match state
        .store
        .book_appointment(
            item_id,
            booking,
            state.settings.appointment_capacity,
            state.now(),
        )
        .await
    {
        Ok(appointment) => appointment_page(&state, name, &appointment, true, None, None).await,
        Err(StoreError::Domain(e)) if e.field().is_some() => {
            let error = FieldError::new(e.field().unwrap_or("slot"), e.message());
            booking_page(&state, name, &id, StatusCode::CONFLICT, form, vec![error]).await
        }
        Err(e) => error_page(&state, name, &e.into()),
    }
}

async fn appointment_page(
    state: &AppState,
    name: Option<String>,
    a: &Appointment,
    just_booked: bool,
    flash: Option<String>,
    error: Option<String>,
) -> Response {
    let item = match state.store.item(a.item_id).await {
        Ok(item) => item,
        Err(e) => return error_page(state, name, &e.into()),
    };
    let department = match state.store.department(a.department_id).await {
        Ok(d) => d,
        Err(e) => return error_page(state, name, &e.into()),
    };
    let today = civil_date(state.now());
    let page = AppointmentPage {
        layout: Layout::new(state, "预约信息", "home", name),
        booking: BookingView {
            code: a.code.clone(),
            item_id: a.item_id,
            item_name: item.guide.name.clone(),
            department: department.name.clone(),
            location: item.guide.location.clone(),
            day: format!("{}（{}）", date_text(a.day), weekday_label(a.day)),
            slot: a.slot_label(),
            name: a.name.clone(),
            phone: a.phone.clone(),
            note: a.note.clone(),
            cancelled: a.cancelled_at.is_some(),
            cancellable: a.cancelled_at.is_none() && a.day > today,
        },
        just_booked,
        flash,
        error,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct AppointmentQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    phone: String,
}

async fn appointment_lookup_form(State(state): State<AppState>, user: MaybeUser) -> Response {
    render(
        StatusCode::OK,
        &AppointmentLookupPage {
            layout: Layout::new(&state, "预约查询", "lookup", user_name(&user)),
            code: String::new(),
            error: None,
        },
    )
}

async fn appointment_lookup(
    _: SameOrigin,
    State(state): State<AppState>,
    user: MaybeUser,
    Form(query): Form<AppointmentQuery>,
) -> Response {
    let name = user_name(&user);
    match state.store.appointment(&query.code, &query.phone).await {
        Ok(a) => appointment_page(&state, name, &a, false, None, None).await,
        Err(StoreError::NotFound { .. }) => render(
            StatusCode::NOT_FOUND,
            &AppointmentLookupPage {
                layout: Layout::new(&state, "预约查询", "lookup", name),
                code: query.code.trim().to_string(),
                error: Some("没有找到该预约：请核对预约号和预约时填写的手机号码".into()),
            },
        ),
        Err(e) => error_page(&state, name, &e.into()),
    }
}

async fn cancel(
    _: SameOrigin,
    State(state): State<AppState>,
    user: MaybeUser,
    Form(query): Form<AppointmentQuery>,
) -> Response {
    let name = user_name(&user);
    let today = civil_date(state.now());
    match state
        .store
        .cancel_appointment(&query.code, &query.phone, today, state.now())
        .await
    {
        Ok(a) => appointment_page(&state, name, &a, false, Some("预约已取消。".into()), None).await,
        Err(StoreError::Domain(e)) => {
            match state.store.appointment(&query.code, &query.phone).await {
                Ok(a) => appointment_page(&state, name, &a, false, None, Some(e.message())).await,
                Err(e) => error_page(&state, name, &e.into()),
            }
        }
        Err(StoreError::NotFound { .. }) => error_page(
            &state,
            name,
            &ApiError::not_found("没有找到该预约：请核对预约号和手机号码"),
        ),
        Err(e) => error_page(&state, name, &e.into()),
    }
}

// ---------------------------------------------------------------------------
// The window's appointments of a day.

pub struct WindowRow {
    pub code: String,
    pub slot: &'static str,
    pub item_id: i64,
    pub item_name: String,
    pub name: String,
    pub phone: String,
    pub note: String,
    pub cancelled: bool,
}

#[derive(Template)]
#[template(path = "window_appointments.html")]
struct WindowAppointmentsPage {
    layout: Layout,
    department: String,
    day: String,
    day_value: String,
    prev: String,
    next: String,
    rows: Vec<WindowRow>,
    booked: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    day: String,
}

async fn window_appointments(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<DayQuery>,
) -> Response {
    let name = Some(member.name.clone());
    let day = query
        .day
        .trim()
        .parse::<Date>()
        .unwrap_or_else(|_| civil_date(state.now()));
    let department = match state.store.department(member.department_id).await {
        Ok(d) => d,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    let list = match state.store.appointments_on(department.id, day).await {
        Ok(list) => list,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        let item_name = match state.store.item(a.item_id).await {
            Ok(item) => item.guide.name,
            Err(e) => return error_page(&state, name, &e.into()),
        };
        rows.push(WindowRow {
            code: a.code.clone(),
            slot: a.slot_label(),
            item_id: a.item_id,
            item_name,
            name: a.name.clone(),
            phone: a.phone.clone(),
            note: a.note.clone(),
            cancelled: a.cancelled_at.is_some(),
        });
    }
    let shift = |days: i64| {
        day.checked_add(jiff::Span::new().days(days))
            .unwrap_or(day)
            .to_string()
    };
    let page = WindowAppointmentsPage {
        layout: Layout::new(&state, "窗口预约", "work", name),
        department: department.name,
        day: format!("{}（{}）", date_text(day), weekday_label(day)),
        day_value: day.to_string(),
        prev: shift(-1),
        next: shift(1),
        booked: rows.iter().filter(|r| !r.cancelled).count(),
        rows,
    };
    render(StatusCode::OK, &page)
}
