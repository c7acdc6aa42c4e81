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
