//! TAXII collection management (issue #4): the collections this server
//! offers under `/taxii2/`, with who may read and write each, how many
//! object versions it holds and its URL; managers create, edit and delete
//! them with plain forms. Readers see the collections their role may read
//! (what TAXII itself lists for them) and how to connect.

use std::collections::HashMap;

use anbao_intel::{Category, Tlp};
use anbao_model::{Permission, Role};
use anbao_store::{CollectionDraft, CollectionPatch, PublishFilter, StoreError, TaxiiCollection};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::intel::{category_key, intel_nav};
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with, role_key};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};
use crate::taxii::API_ROOT;

const PAGE: &str = "/intel/taxii";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Fill the form with this collection (its id).
    edit: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

fn collection_url(c: &TaxiiCollection) -> String {
    format!("{API_ROOT}collections/{}/", c.id)
}

fn role_checks(ctx: &Ctx, field: &'static str, roles: &[Role], writable: bool) -> Markup {
    html! {
        fieldset class="roles" data-field=(field) {
            legend { (ctx.t(if writable { "intel.taxii_can_write" } else { "intel.taxii_can_read" })) }
            @for r in Role::ALL {
                @if !writable || !r.is_read_only() {
                    label class="check" {
                        input type="checkbox" name=(field) value=(r.as_str()) checked[roles.contains(&r)];
                        (ctx.t(role_key(r)))
                    }
                }
            }
        }
    }
}

fn collection_form(ctx: &Ctx, editing: Option<&TaxiiCollection>) -> Markup {
    let action = match editing {
        Some(c) => format!("{PAGE}/{}", c.id),
        None => PAGE.to_owned(),
    };
    let publish = editing.and_then(|c| c.publish.as_ref());
    let default_read = [Role::Admin, Role::Analyst];
    let default_write = [Role::Admin, Role::Analyst];
    html! {
        form method="post" action=(action) id="taxii-form" class="grid" data-editing=[editing.map(|c| c.id.as_str())] {
            (ctx.csrf_field())
            label { (ctx.t("intel.taxii_title")) input name="title" required maxlength="200" value=[editing.map(|c| c.title.as_str())]; }
            label { (ctx.t("intel.taxii_alias")) input name="alias" maxlength="100" placeholder="indicators" value=[editing.and_then(|c| c.alias.as_deref())]; }
            label class="wide" { (ctx.t("field.description")) textarea name="description" rows="2" { (editing.map(|c| c.description.as_str()).unwrap_or_default()) } }
            (role_checks(ctx, "can_read", editing.map(|c| c.can_read.as_slice()).unwrap_or(&default_read), false))
            (role_checks(ctx, "can_write", editing.map(|c| c.can_write.as_slice()).unwrap_or(&default_write), true))
            fieldset class="wide" {
                legend { (ctx.t("intel.taxii_publish")) }
                label class="check" { input type="checkbox" name="publish" value="true" checked[publish.is_some()]; (ctx.t("intel.taxii_publish_on")) }
                @for c in Category::ALL {
                    label class="check" {
                        input type="checkbox" name="publish_category" value=(c.as_str()) checked[publish.is_some_and(|p| p.categories.contains(&c))];
                        (ctx.t(category_key(c)))
                    }
                }
                label { (ctx.t("intel.taxii_max_tlp")) select name="max_tlp" {
                    option value="" { (ctx.t("intel.taxii_any_tlp")) }
                    @for t in Tlp::ALL { option value=(t.as_str()) selected[publish.and_then(|p| p.max_tlp) == Some(t)] { (t.as_str()) } }
                } }
                p class="small" { (ctx.t("intel.taxii_publish_help")) }
            }
            button type="submit" { (ctx.t("action.save")) }
            @if editing.is_some() { " " a href=(PAGE) { (ctx.t("action.cancel")) } }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let manage = ctx.can(Permission::ManageIntel);
    let counts: HashMap<String, i64> = state.store.taxii_object_counts().await?.into_iter().collect();
    let collections: Vec<TaxiiCollection> =
        state.store.taxii_collections().await?.into_iter().filter(|c| manage || c.readable_by(p.role)).collect();
    let editing = if manage { q.edit.as_deref().and_then(|id| collections.iter().find(|c| c.id == id)) } else { None };
    let f = Flash { ok: q.ok.clone(), error: q.error.clone() };
    let roles = |rs: &[Role]| -> String {
        if rs.is_empty() {
            "—".to_owned()
        } else {
            rs.iter().map(|r| ctx.t(role_key(*r))).collect::<Vec<_>>().join(", ")
        }
    };
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        section class="card" id="taxii-connect" {
            h2 { (ctx.t("intel.taxii_connect")) }
            dl {
                dt { (ctx.t("intel.taxii_discovery")) } dd { code id="taxii-discovery" { "/taxii2/" } }
                dt { (ctx.t("intel.taxii_api_root")) } dd { code { (API_ROOT) } }
                dt { (ctx.t("intel.taxii_auth")) } dd { (ctx.t("intel.taxii_auth_help")) }
            }
            p class="small" { (ctx.t("intel.taxii_connect_help")) }
        }
        table class="data" id="taxii-collections" {
            thead { tr {
                th { (ctx.t("intel.taxii_title")) } th { "ID" } th { (ctx.t("intel.taxii_alias")) }
                th { (ctx.t("intel.taxii_can_read")) } th { (ctx.t("intel.taxii_can_write")) }
                th { (ctx.t("intel.taxii_publish")) } th { (ctx.t("intel.objects")) } th { "URL" } th {}
            } }
            tbody {
                @for c in &collections {
                    tr data-collection=(c.id) data-title=(c.title) {
                        td { (c.title) @if !c.description.is_empty() { div class="small" { (c.description) } } }
                        td class="small" { code { (c.id) } }
                        td { @if let Some(a) = &c.alias { code { (a) } } @else { "—" } }
                        td data-roles="read" { (roles(&c.can_read)) }
                        td data-roles="write" { (roles(&c.can_write)) }
                        td class="small" {
                            @match &c.publish {
                                None => { "—" }
                                Some(pf) => {
                                    @if pf.categories.is_empty() { (ctx.t("intel.any_category")) }
                                    @else { @for (n, cat) in pf.categories.iter().enumerate() { @if n > 0 { ", " } (ctx.t(category_key(*cat))) } }
                                    @if let Some(t) = pf.max_tlp { " · TLP ≤ " (t.as_str()) }
                                }
                            }
                        }
                        td data-count="objects" { (counts.get(&c.id).copied().unwrap_or(0)) }
                        td class="small" { code class="taxii-url" { (collection_url(c)) } }
                        td class="nowrap" { @if manage {
                            a href={ (PAGE) "?edit=" (c.id) } class="edit-collection" { (ctx.t("action.edit")) } " "
                            @if c.publish.is_some() {
                                form method="post" action={ (PAGE) "/" (c.id) "/publish" } class="inline publish-collection" {
                                    (ctx.csrf_field()) button type="submit" { (ctx.t("intel.taxii_publish_now")) }
                                }
                                " "
                            }
                            form method="post" action={ (PAGE) "/" (c.id) "/delete" } class="inline delete-collection" data-confirm=(ctx.t("intel.taxii_confirm_delete")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                            }
                        } }
                    }
                }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t(if editing.is_some() { "intel.taxii_edit" } else { "intel.taxii_create" })) }
                (collection_form(&ctx, editing))
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_taxii"), body))
}

/// What a collection form posts.
struct Posted {
    title: String,
    description: String,
    alias: Option<String>,
    can_read: Vec<Role>,
    can_write: Vec<Role>,
    publish: Option<PublishFilter>,
}

fn all_of<'a>(raw: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    raw.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
}

fn roles_of(raw: &[(String, String)], key: &str) -> Result<Vec<Role>, String> {
    all_of(raw, key).into_iter().map(|r| r.parse::<Role>().map_err(|e| format!("{key}: {e}"))).collect()
}

fn posted(raw: &[(String, String)]) -> Result<Posted, String> {
    let alias = form_value(raw, "alias").trim();
    let publish = if form_value(raw, "publish").is_empty() {
        None
    } else {
        let categories: Vec<String> = all_of(raw, "publish_category").into_iter().map(str::to_owned).collect();
        let max_tlp = Some(form_value(raw, "max_tlp").trim()).filter(|t| !t.is_empty());
        Some(PublishFilter::parse(&categories, max_tlp).map_err(|e| e.to_string())?)
    };
    Ok(Posted {
        title: form_value(raw, "title").trim().to_owned(),
        description: form_value(raw, "description").replace("\r\n", "\n"),
        alias: Some(alias.to_owned()).filter(|a| !a.is_empty()),
        can_read: roles_of(raw, "can_read")?,
        can_write: roles_of(raw, "can_write")?,
        publish,
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let form = posted(&raw).or_bounce(PAGE)?;
    let draft = CollectionDraft {
        title: form.title,
        description: form.description,
        alias: form.alias,
        can_read: form.can_read,
        can_write: form.can_write,
        publish: form.publish,
    };
    after_change(state.store.taxii_create_collection(&p.actor(&client), &draft).await, PAGE, ctx.t("saved"))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = format!("{PAGE}?edit={}", super::urlencode(&id));
    let form = posted(&raw).or_bounce(&back)?;
    let patch = CollectionPatch {
        title: Some(form.title),
        description: Some(form.description),
        alias: Some(form.alias),
        can_read: Some(form.can_read),
        can_write: Some(form.can_write),
        publish: Some(form.publish),
    };
    match state.store.taxii_update_collection(&p.actor(&client), &id, &patch).await {
        Ok(_) => Ok(redirect_with(PAGE, "ok", ctx.t("saved"))),
        Err(e @ StoreError::NotFound { .. }) => after_change(Err::<(), _>(e), PAGE, ""),
        Err(e) => after_change(Err::<(), _>(e), &back, ""),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    after_change(state.store.taxii_delete_collection(&p.actor(&client), &id).await, PAGE, ctx.t("deleted"))
}

/// Publishes the indicators the collection's filter admits, now.
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match anbao_feeds::publish::publish(&state.store, &p.actor(&client), &id).await {
        Ok(r) => {
            let message = ctx
                .t("intel.taxii_published")
                .replace("{added}", &r.added.to_string())
                .replace("{admitted}", &r.admitted.to_string());
            Ok(redirect_with(PAGE, "ok", &message))
        }
        Err(anbao_feeds::FeedsError::Store(e)) => after_change(Err::<(), _>(e), PAGE, ""),
        Err(e) => Ok(redirect_with(PAGE, "error", &e.to_string())),
    }
}
