//! The requirement dashboard page: every requirement id of the guidance,
//! green / amber / red, with the evidence behind it.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use crate::AppState;
use crate::auth::Principal;
use crate::compliance::{Rag, statuses};
use crate::error::ApiError;
use crate::i18n::Lang;

fn rag_class(r: Rag) -> &'static str {
    match r {
        Rag::Green => "badge green",
        Rag::Amber => "badge amber",
        Rag::Red => "badge red",
    }
}

fn rag_key(r: Rag) -> &'static str {
    match r {
        Rag::Green => "rag.green",
        Rag::Amber => "rag.amber",
        Rag::Red => "rag.red",
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, p: Principal) -> Result<Response, ApiError> {
    let list = statuses(&state, &p).await?;
    let count = |r: Rag| list.iter().filter(|x| x.status == r).count();
    let body = html! {
        div class="cards" {
            div class="card stat" { span class="n green" id="rag-green" { (count(Rag::Green)) } span { (ctx.t("rag.green")) } }
            div class="card stat" { span class="n amber" id="rag-amber" { (count(Rag::Amber)) } span { (ctx.t("rag.amber")) } }
            div class="card stat" { span class="n red" id="rag-red" { (count(Rag::Red)) } span { (ctx.t("rag.red")) } }
        }
        p class="actions" {
            a href="/api/v1/requirements?format=csv" download { (ctx.t("audit.export_csv")) } " · "
            a href="/api/v1/requirements" { (ctx.t("audit.export_json")) }
        }
        table class="data" id="requirements" {
            thead { tr { th { "ID" } th { (ctx.t("field.requirement")) } th { (ctx.t("field.status")) } th { (ctx.t("field.evidence")) } } }
            tbody {
                @for r in &list {
                    tr data-requirement=(r.id) data-status=(format!("{:?}", r.status).to_lowercase()) {
                        td class="nowrap" { strong { (r.id) } br; span class="req" { (r.section) } }
                        td { @if ctx.lang == Lang::Zh { (r.title_zh) } @else { (r.title) } }
                        td { span class=(rag_class(r.status)) { (ctx.t(rag_key(r.status))) } }
                        td {
                            @for e in &r.evidence {
                                div {
                                    @if ctx.lang == Lang::Zh { (e.label_zh) } @else { (e.label) } ": "
                                    @match &e.link { Some(l) => a href=(l) { (e.value) }, None => (e.value) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.requirements"), body))
}
