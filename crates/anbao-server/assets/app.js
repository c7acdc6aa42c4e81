// anbao web UI: progressive enhancement only; every page works without it.
document.addEventListener("submit", (e) => {
  const msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
// Grants apply to regulator accounts only: show the field when it matters.
function syncGrants(select) {
  const form = select.closest("form");
  const grants = form && form.querySelector("[data-grants]");
  if (grants) grants.hidden = select.value !== "regulator";
}
document.addEventListener("change", (e) => {
  if (e.target.matches("[data-role-select]")) syncGrants(e.target);
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-role-select]").forEach(syncGrants);
});
// Asset forms: show only the chosen type's own fields.
function syncAssetType(select) {
  const form = select.closest("form");
  if (!form) return;
  form.querySelectorAll("[data-for-type]").forEach((el) => {
    el.hidden = el.getAttribute("data-for-type") !== select.value;
  });
}
document.addEventListener("change", (e) => {
  if (e.target.matches("[data-asset-type-select]")) syncAssetType(e.target);
});
// Intel import runs: follow the run's counts each second while it runs,
// then reload once so the page shows the finished run.
function followImport(el) {
  const url = el.getAttribute("data-import-poll");
  const tick = async () => {
    let delay = 1000;
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) {
        const run = await r.json();
        el.querySelectorAll("[data-count]").forEach((c) => {
          const v = run[c.getAttribute("data-count")];
          if (v !== undefined && v !== null) c.textContent = String(v);
        });
        const progress = el.querySelector("progress");
        if (progress) progress.textContent = String((run.accepted || 0) + (run.updated || 0));
        if (run.status !== "running") {
          window.location.reload();
          return;
        }
      } else {
        delay = 5000;
      }
    } catch (_) {
      delay = 5000;
    }
    setTimeout(tick, delay);
  };
  setTimeout(tick, 1000);
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-import-poll][data-status=running]").forEach(followImport);
});
// Incident form: grade the facts as they are entered (POST
// /api/v1/incidents/grade records nothing) and show level, why and deadline.
function gradeBody(form) {
  const v = (name) => {
    const el = form.elements.namedItem(name);
    return el ? el.value.trim() : "";
  };
  const checked = (name) => {
    const el = form.elements.namedItem(name);
    return !!(el && el.checked);
  };
  const body = {
    users_offline_scope: v("users_offline_scope") || "none",
    records_leaked: v("records_leaked") === "" ? 0 : Number(v("records_leaked")),
    national_tld_affected: checked("national_tld_affected"),
    large_dns_affected: checked("large_dns_affected"),
    platform_influence: v("platform_influence") || "none",
    malware_spread_scope: v("malware_spread_scope") || "none",
  };
  if (v("discovered_at")) body.discovered_at = v("discovered_at");
  if (v("operator_category")) body.operator_category = v("operator_category");
  return body;
}
function previewGrade(form) {
  const box = document.getElementById("grade-preview");
  if (!box) return;
  const csrf = form.elements.namedItem("_csrf");
  const seq = (form.gradeSeq = (form.gradeSeq || 0) + 1);
  fetch(form.getAttribute("data-grade-url"), {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
    body: JSON.stringify(gradeBody(form)),
  })
    .then((r) => r.json().then((j) => ({ ok: r.ok, j })))
    .then(({ ok, j }) => {
      if (seq !== form.gradeSeq) return; // a newer answer is on its way
      const error = box.querySelector("#preview-error");
      if (!ok) {
        error.textContent = j.error || String(j.status);
        error.hidden = false;
        return;
      }
      error.hidden = true;
      const labels = JSON.parse(box.getAttribute("data-labels") || "{}");
      const level = box.querySelector("#preview-level");
      level.textContent = labels[j.level] || j.level;
      level.setAttribute("data-level", j.level);
      level.className =
        j.level === "I" || j.level === "II" ? "badge red" : j.level === "III" ? "badge amber" : j.level === "IV" ? "badge" : "badge green";
      const zh = (document.documentElement.lang || "").startsWith("zh");
      box.querySelector("#preview-explanation").textContent = zh ? j.explanation_zh : j.explanation;
      const d = box.querySelector("#preview-deadline");
      if (j.report_by) {
        let text = `${j.report_by} (${j.report_within_minutes} ${box.getAttribute("data-minutes")})`;
        if (j.report_immediately) text += ` · ${box.getAttribute("data-immediately")}`;
        d.textContent = text;
      } else {
        d.textContent = box.getAttribute("data-no-clock");
      }
    })
    .catch(() => {});
}
document.addEventListener("input", (e) => {
  const form = e.target.closest && e.target.closest("form[data-grade-url]");
  if (form) previewGrade(form);
});
document.addEventListener("change", (e) => {
  const form = e.target.closest && e.target.closest("form[data-grade-url]");
  if (form) previewGrade(form);
});
// Reporting deadlines: count down (or up, once overdue) every 30 seconds.
function tickDeadlines() {
  document.querySelectorAll("[data-deadline]").forEach((el) => {
    const ms = Date.parse(el.getAttribute("data-deadline")) - Date.now();
    if (Number.isNaN(ms)) return;
    const m = Math.floor(Math.abs(ms) / 60000);
    const text = `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
    el.textContent = ms >= 0 ? `${el.getAttribute("data-left")} ${text}` : `${el.getAttribute("data-overdue")} ${text}`;
    el.className = ms >= 0 ? "badge amber" : "badge red";
  });
}
document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector("[data-deadline]")) {
    tickDeadlines();
    setInterval(tickDeadlines, 30000);
  }
});
// Command-and-dispatch board: the server says "change" over server-sent
// events whenever the incident, its tasks, timeline or messages change;
// fetch the board again and swap its live parts, leaving the forms alone.
function followBoard(board) {
  let busy = false;
  let again = false;
  const refresh = async () => {
    if (busy) {
      again = true; // one more fetch once this one is done
      return;
    }
    busy = true;
    try {
      const r = await fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (r.ok) {
        const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
        document.querySelectorAll("[data-board-part]").forEach((part) => {
          const next = fresh.getElementById(part.id);
          if (next) part.replaceWith(document.importNode(next, true));
        });
        tickDeadlines();
        board.setAttribute("data-refreshed", String(Number(board.getAttribute("data-refreshed") || 0) + 1));
      }
    } catch (_) {
      // The next event (or reconnect) tries again.
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  const events = new EventSource(board.getAttribute("data-board-events"));
  let opened = false;
  events.addEventListener("open", () => {
    board.setAttribute("data-live", "true");
    // After a reconnect, catch up on what happened while it was down.
    if (opened) refresh();
    opened = true;
  });
  events.addEventListener("error", () => board.setAttribute("data-live", "false"));
  events.addEventListener("change", refresh);
  window.addEventListener("pagehide", () => events.close());
}
document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector("[data-board-events]");
  if (board) followBoard(board);
});
// Lists with checkboxes for a bulk form: a header box selects every row on
// the page (`data-select-all` names the rows' checkbox field); it is hidden
// in the markup so that without script nothing is offered that does nothing.
function rowBoxes(all) {
  const form = all.closest("form");
  const name = all.getAttribute("data-select-all");
  return form ? Array.from(form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) : [];
}
function syncSelectAll(all) {
  const boxes = rowBoxes(all);
  const checked = boxes.filter((b) => b.checked).length;
  all.checked = boxes.length > 0 && checked === boxes.length;
  all.indeterminate = checked > 0 && checked < boxes.length;
}
document.addEventListener("change", (e) => {
  const t = e.target;
  if (t.matches("[data-select-all]")) {
    rowBoxes(t).forEach((b) => {
      b.checked = t.checked;
    });
    t.indeterminate = false;
    return;
  }
  const form = t.closest && t.matches("input[type=checkbox]") && t.closest("form");
  if (form) form.querySelectorAll("[data-select-all]").forEach(syncSelectAll);
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-select-all]").forEach((all) => {
    all.hidden = rowBoxes(all).length === 0;
    syncSelectAll(all);
  });
});
