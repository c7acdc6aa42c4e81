//! Static files of the web UI, compiled into the binary so one file is the
//! whole installation.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::extract::Path;

/// The stylesheet, also inlined into documents rendered outside a browser
/// session (PDF).
pub const APP_CSS: &str = include_str!("../assets/app.css");

const FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", APP_CSS),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("favicon.svg", "image/svg+xml", include_str!("../assets/favicon.svg")),
];

/// Browsers ask for `/favicon.ico` whatever the page says.
pub async fn favicon() -> Response {
    serve(Path("favicon.svg".to_owned())).await
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
