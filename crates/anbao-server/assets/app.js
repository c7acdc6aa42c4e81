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
