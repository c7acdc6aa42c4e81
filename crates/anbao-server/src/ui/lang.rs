//! The language switch: a cookie, then back where the user was.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::LANG_COOKIE;
use crate::extract::Query;
use crate::i18n::Lang;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    set: String,
    next: Option<String>,
}

pub async fn set(Query(q): Query<LangQuery>) -> Response {
    let next = match q.next.as_deref() {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    };
    let Some(lang) = Lang::parse(&q.set) else { return Redirect::to(&next).into_response() };
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}
