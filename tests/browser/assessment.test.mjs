// End-to-end test of a compliance assessment (requirement R1.2) in headless
// Chromium, the way a security department and its third-party assessor
// work it through the web UI: grade a network unit with the wizard, start
// an assessment over every catalogue requirement of its level, find that it
// cannot be completed while items have no result, mark every item (two
// findings among them), attach an evidence file and an evidence link and
// download the file again, complete the assessment so that the findings
// become remediation tasks, close one task, and read the outcome on the
// unit page and the requirement dashboard.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/assessment/. Environment
// variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS, exactly, pathOf } from './lib.mjs';

const DIR = path.join(RESULTS, 'assessment');

const UNIT = {
  name: '跨省移动核心网',
  person: '李娜',
  main_function: 'Mobile core network serving the public in several provinces',
};
// Serious harm to the public interest gives at least 3 (rule
// "public-serious"); serving the public in more than one province makes it
// 3.2 (level3_split "split-wide"). See crates/anbao-model/data/grading-rules.toml.
const ANSWERS = {
  national_security: 'none',
  economic_operation: 'none',
  social_order: 'minor',
  public_interest: 'serious',
  own_interests: 'harm',
  service_scope: 'cross_province',
};
const EXPECTED_LEVEL = '3.2';
const EXPECTED_TIER = 3;
const ASSESSOR = '第三方测评机构';

// The two findings; every other item is met.
const NOT_MET = 'NET-3-14'; // administrators log in to network devices with two or more factors
const NOT_MET_NOTE = '核心路由器管理员仅用口令登录，未启用双因素认证';
const PARTLY = 'APP-3-12'; // Internet-facing web applications sit behind a WAF
// The evidence: a file for one requirement, a link for another.
const FILE_REQUIREMENT = 'HST-3-02';
const FILE_NAME = 'access-control-review.txt';
const FILE_BYTES = Buffer.from('主机访问控制核查记录\r\n检查人：王芳\r\nresult: met\r\n', 'utf8');
const LINK_REQUIREMENT = PARTLY;
const LINK = 'https://wiki.example.cn/sec/waf-policy-review?id=42&v=2';
const TASK_OWNER = '王芳';

let server;
let page;
let pageErrors = [];
let badResponses = [];
let tmpDir; // holds the evidence file

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  prepare: () => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anbao-evidence-'));
    fs.writeFileSync(path.join(tmpDir, FILE_NAME), FILE_BYTES);
  },
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
  cleanup: () => tmpDir && fs.rmSync(tmpDir, { recursive: true, force: true }),
});

// ---------------------------------------------------------------------------
// Helpers (bound to this file's page; see lib.mjs).

const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

/** YYYY-MM-DD `days` after the YYYY-MM-DD `date`. */
function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** GET an API path with the browser's session; resolves to the parsed JSON. */
async function apiGet(p) {
  const r = await page.request.get(url(p), { timeout: NAV_TIMEOUT_MS });
  assert.equal(r.status(), 200, `GET ${p}: ${r.status()} ${await r.text()}`);
  return r.json();
}

/** The counts of #assessment-tally: { met: 174, … }. */
async function tally() {
  const out = {};
  for (const s of await page.locator('#assessment-tally span[data-result]').all()) {
    const n = (await text(s)).match(/(\d+)$/);
    assert.ok(n, `a count in "${await text(s)}"`);
    out[await s.getAttribute('data-result')] = Number(n[1]);
  }
  return out;
}

/** The value shown next to a <dt> of the unit page's detail list. */
const unitDetail = (label) =>
  page.locator('#unit-detail dt', { hasText: exactly(label) }).locator('xpath=following-sibling::dd[1]');

/** The requirement statuses on /govern/requirements: { 'R1.1': 'red', … }. */
async function requirementStatuses() {
  const rows = page.locator('table#requirements tbody tr[data-requirement]');
  await rows.first().waitFor();
  const out = {};
  for (const row of await rows.all()) {
    out[await row.getAttribute('data-requirement')] = await row.getAttribute('data-status');
  }
  return out;
}

test('a compliance assessment, item by item, through the web UI', { timeout: 10 * 60_000 }, async (t) => {
  const timings = [];
  const timed = (name, fn) =>
    step(t, name, async () => {
      const start = performance.now();
      await fn();
      timings.push(`${name}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
    });

  let unitPath; // /govern/units/<id>
  let assessmentPath; // /govern/assessments/<id>
  let assessmentId;
  let today; // the server's today
  let requirementIds = []; // of the assessment, from the API
  const due = () => addDays(today, 90);
  const row = (req) => page.locator(`#assessment-results tr[data-requirement="${req}"]`);

  await timed('1. sign in, switch to English, create a network unit and grade it', async () => {
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    assert.equal(pathOf(page.url()), '/');
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    assert.match(await page.locator('html').getAttribute('lang'), /^en/);

    await clickAndLoad(navLink('Govern'), (u) => u.pathname === '/areas/govern');
    await clickAndLoad(page.locator('main a', { hasText: exactly('Network-unit grading and filing') }), (u) => u.pathname === '/govern/units');
    const form = page.locator('form#create-network-unit');
    await form.locator('input[name=name]').fill(UNIT.name);
    await form.locator('input[name=responsible_person]').fill(UNIT.person);
    await form.locator('input[name=main_function]').fill(UNIT.main_function);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/govern\/units\/\d+$/.test(u.pathname) && u.searchParams.has('ok'));
    unitPath = pathOf(page.url());
    assert.equal(await text(page.locator('#unit-status')), 'Draft');
    assert.equal(await page.locator('form#start-assessment').count(), 0, 'no assessment before grading');

    const wizard = page.locator('form#grading-wizard');
    for (const [factor, option] of Object.entries(ANSWERS)) {
      await wizard.locator(`fieldset.factor[data-factor="${factor}"] input[type=radio][name="answer.${factor}"][value="${option}"]`).check();
    }
    await clickAndLoad(wizard.locator('button[name=step][value=preview]'), (u) => u.pathname === `${unitPath}/grading`);
    await page.locator('#grading-proposal').waitFor();
    assert.equal(await text(page.locator('#proposed-level')), EXPECTED_LEVEL);
    assert.match(await text(page.locator('#grading-proposal')), /decided by public-serious/);
    const accept = page.locator('form#grading-accept');
    assert.equal(await accept.locator('select[name=level]').inputValue(), EXPECTED_LEVEL);
    await clickAndLoad(accept.locator('button[type=submit][name=step][value=accept]'), (u) => u.pathname === unitPath && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('#unit-status')), 'Graded');
    assert.equal(await text(page.locator('#unit-level')), EXPECTED_LEVEL);
    assert.equal(await text(unitDetail('Last compliance assessment')), '', 'never assessed');
    // The server's today, as its forms fill it in.
    today = await page.locator('form#review-form input[type=date][name=passed_on]').inputValue();
    assert.match(today, DATE);
  });

  await timed('2. start a compliance assessment over the requirements of the level', async () => {
    assert.equal(await page.locator('ul#assessments li').count(), 0, 'no assessments yet');
    const form = page.locator('form#start-assessment');
    await form.locator('input[name=assessor]').fill(ASSESSOR);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/govern\/assessments\/\d+$/.test(u.pathname) && u.searchParams.has('ok'));
    assessmentPath = pathOf(page.url());
    assessmentId = Number(assessmentPath.split('/').pop());
    assert.equal(await text(page.locator('.flash.ok')), "Assessment started with the requirements of the unit's level");
    assert.equal(await text(page.locator('main h1')), `Compliance assessment · ${UNIT.name}`);
    const card = page.locator('main section.card').first();
    assert.equal(await text(card.locator('p').first()), `${UNIT.name} · Grade ${EXPECTED_LEVEL} · Assessor ${ASSESSOR} · ${today}`);

    // One row per catalogue item of tier 3, as the API lists them.
    const a = await apiGet(`/api/v1/assessments/${assessmentId}`);
    assert.equal(a.status, 'in_progress');
    assert.equal(a.level_tier, EXPECTED_TIER);
    assert.equal(a.assessor, ASSESSOR);
    assert.equal(a.started_on, today);
    requirementIds = a.items.map((i) => i.requirement_id);
    assert.ok(requirementIds.length > 100, `the tier-3 catalogue has over 100 items (${requirementIds.length})`);
    for (const r of [NOT_MET, PARTLY, FILE_REQUIREMENT]) assert.ok(requirementIds.includes(r), `${r} applies at tier 3`);
    const rows = page.locator('#assessment-results tbody tr[data-requirement]');
    assert.equal(await rows.count(), requirementIds.length);
    assert.deepEqual(
      (await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.requirement))).sort(),
      [...requirementIds].sort(),
      'the rows are the items of the assessment',
    );
    // Grouped by area, each a table under its heading.
    assert.ok((await page.locator('#assessment-results h2').count()) >= 5, 'one heading per area');
    // Nothing assessed yet.
    assert.deepEqual(await tally(), { unassessed: requirementIds.length, met: 0, partly: 0, not_met: 0, not_applicable: 0 });
    assert.equal(await page.locator('#assessment-results select[name^="result."]').count(), requirementIds.length);
    assert.equal(await page.locator('#assessment-results input[name^="note."]').count(), requirementIds.length);
    const values = await page.locator('#assessment-results select[name^="result."]').evaluateAll((ss) => [...new Set(ss.map((s) => s.value))]);
    assert.deepEqual(values, ['unassessed']);
    assert.deepEqual(
      await row(NOT_MET).locator('select option').evaluateAll((os) => os.map((o) => `${o.value}=${o.textContent.trim()}`)),
      ['unassessed=Not assessed', 'met=Met', 'partly=Partly met', 'not_met=Not met', 'not_applicable=Not applicable'],
    );
    // Complete offers the unit's responsible person and 90 days.
    const complete = page.locator('form#assessment-complete');
    assert.equal(await complete.locator('input[name=owner]').inputValue(), UNIT.person);
    assert.equal(await complete.locator('input[type=date][name=due_on]').inputValue(), due());

    // The unit lists it as in progress, and links to it.
    await clickAndLoad(card.locator(`a[href="${unitPath}"]`), (u) => u.pathname === unitPath);
    const items = page.locator('ul#assessments li');
    assert.equal(await items.count(), 1);
    assert.equal(await text(items.first()), `${today} · ${ASSESSOR} in progress`);
    assert.match(await items.first().locator('span.badge').getAttribute('class'), /\bamber\b/);
    await clickAndLoad(items.first().locator(`a[href="${assessmentPath}"]`), (u) => u.pathname === assessmentPath);
  });

  await timed('3. completing with items unassessed is refused', async () => {
    const complete = page.locator('form#assessment-complete');
    await clickAndLoad(complete.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('error'), {
      allowErrorFlash: true,
    });
    assert.equal(await text(page.locator('.flash.error')), `${requirementIds.length} requirements have no result yet`);
    const a = await apiGet(`/api/v1/assessments/${assessmentId}`);
    assert.equal(a.status, 'in_progress');
    assert.equal(a.completed_on, null);
    assert.deepEqual((await apiGet('/api/v1/remediation-tasks')).length, 0, 'no tasks raised');
    assert.equal(await page.locator('form#assessment-complete').count(), 1, 'still open for completion');
  });

  await timed('4. mark every item: all met but one not met (with a note) and one partly met', async () => {
    const selects = page.locator('#assessment-results select[name^="result."]');
    // 170-odd selects: set them in one go, then choose the two findings as a person would.
    const set = await selects.evaluateAll((ss) => {
      for (const s of ss) s.value = 'met';
      return ss.filter((s) => s.value === 'met').length;
    });
    assert.equal(set, requirementIds.length);
    await row(NOT_MET).locator(`select[name="result.${NOT_MET}"]`).selectOption('not_met');
    await row(NOT_MET).locator(`input[name="note.${NOT_MET}"]`).fill(NOT_MET_NOTE);
    await row(PARTLY).locator(`select[name="result.${PARTLY}"]`).selectOption('partly');
    await clickAndLoad(page.locator('form#assessment-results button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('.flash.ok')), 'Saved');

    const n = requirementIds.length;
    assert.deepEqual(await tally(), { unassessed: 0, met: n - 2, partly: 1, not_met: 1, not_applicable: 0 });
    assert.equal(await text(page.locator('#assessment-tally span[data-result=not_met]')), 'Not met 1');
    assert.equal(await row(NOT_MET).getAttribute('data-result'), 'not_met');
    assert.equal(await row(PARTLY).getAttribute('data-result'), 'partly');
    assert.equal(await row(FILE_REQUIREMENT).getAttribute('data-result'), 'met');
    assert.equal(await page.locator('#assessment-results tr[data-requirement][data-result=met]').count(), n - 2);
    // The page comes back with what was saved.
    assert.equal(await row(NOT_MET).locator('select').inputValue(), 'not_met');
    assert.equal(await row(NOT_MET).locator(`input[name="note.${NOT_MET}"]`).inputValue(), NOT_MET_NOTE);
    assert.equal(await row(PARTLY).locator('select').inputValue(), 'partly');
    const a = await apiGet(`/api/v1/assessments/${assessmentId}`);
    const item = a.items.find((i) => i.requirement_id === NOT_MET);
    assert.equal(item.result, 'not_met');
    assert.equal(item.note, NOT_MET_NOTE);
    assert.equal(item.assessed_by, 'admin');
    assert.equal(item.assessed_on, today);
    assert.equal(a.status, 'in_progress', 'saving does not complete');
    await screenshot('assessment-marked');
  });

  await timed('5. attach an evidence file and an evidence link', async () => {
    let form = page.locator('form#evidence-upload');
    // Neither a file nor a link, then a link that is not a web address: refused.
    await form.locator('select[name=requirement_id]').selectOption(LINK_REQUIREMENT);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('error'), { allowErrorFlash: true });
    assert.equal(await text(page.locator('.flash.error')), 'file: attach a file or give a link');
    form = page.locator('form#evidence-upload');
    await form.locator('select[name=requirement_id]').selectOption(LINK_REQUIREMENT);
    await form.locator('input[name=link]').fill('javascript:alert(document.domain)');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('error'), { allowErrorFlash: true });
    assert.equal(await text(page.locator('.flash.error')), 'link: a link starts with https:// or http://');
    assert.equal(await page.locator('#assessment-results td:nth-child(5) a').count(), 0, 'nothing was added');

    form = page.locator('form#evidence-upload');
    await form.locator('select[name=requirement_id]').selectOption(FILE_REQUIREMENT);
    await form.locator('input[type=file][name=file]').setInputFiles(path.join(tmpDir, FILE_NAME));
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('.flash.ok')), 'Saved');

    form = page.locator('form#evidence-upload');
    await form.locator('select[name=requirement_id]').selectOption(LINK_REQUIREMENT);
    await form.locator('input[name=link]').fill(LINK);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('ok'));

    // Each shows in its requirement's row, and nowhere else.
    const fileLinks = row(FILE_REQUIREMENT).locator('td:nth-child(5) a');
    assert.equal(await fileLinks.count(), 1);
    assert.equal(await text(fileLinks), FILE_NAME);
    const href = await fileLinks.getAttribute('href');
    assert.match(href, new RegExp(`^/api/v1/assessments/${assessmentId}/evidence/\\d+$`));
    const linkLinks = row(LINK_REQUIREMENT).locator('td:nth-child(5) a');
    assert.equal(await linkLinks.count(), 1);
    assert.equal(await linkLinks.getAttribute('href'), LINK);
    assert.equal(await text(linkLinks), LINK);
    assert.equal(await linkLinks.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await page.locator('#assessment-results td:nth-child(5) a').count(), 2, 'no other row has evidence');
    await screenshot('assessment-evidence');
    // Close-ups, since the full page is some 20 000 pixels tall.
    fs.mkdirSync(DIR, { recursive: true });
    await page.locator('#assessment-tally').screenshot({ path: path.join(DIR, 'assessment-tally.png') });
    await row(FILE_REQUIREMENT).screenshot({ path: path.join(DIR, 'assessment-evidence-file-row.png') });
    await row(LINK_REQUIREMENT).screenshot({ path: path.join(DIR, 'assessment-evidence-link-row.png') });
    await page.locator('form#evidence-upload').screenshot({ path: path.join(DIR, 'assessment-evidence-form.png') });

    // The file comes back byte for byte, as an opaque attachment.
    const r = await page.request.get(url(href), { timeout: NAV_TIMEOUT_MS });
    assert.equal(r.status(), 200);
    const headers = r.headers();
    assert.equal(headers['content-type'], 'application/octet-stream');
    assert.equal(headers['content-disposition'], `attachment; filename="${FILE_NAME}"; filename*=UTF-8''${encodeURIComponent(FILE_NAME)}`);
    assert.ok((await r.body()).equals(FILE_BYTES), 'the same bytes as uploaded');

    const a = await apiGet(`/api/v1/assessments/${assessmentId}`);
    const [ev] = a.items.find((i) => i.requirement_id === FILE_REQUIREMENT).evidence;
    assert.equal(ev.file_name, FILE_NAME);
    assert.match(ev.sha256, /^[0-9a-f]{64}$/);
    assert.equal(ev.link, '');
    const [lk] = a.items.find((i) => i.requirement_id === LINK_REQUIREMENT).evidence;
    assert.equal(lk.link, LINK);
    assert.equal(lk.sha256, null);
  });

  await timed('6. complete the assessment: the findings become remediation tasks', async () => {
    const form = page.locator('form#assessment-complete');
    await form.locator('input[name=owner]').fill(TASK_OWNER);
    await form.locator('input[type=date][name=due_on]').fill(due());
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === assessmentPath && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('.flash.ok')), 'completed');

    const a = await apiGet(`/api/v1/assessments/${assessmentId}`);
    assert.equal(a.status, 'completed');
    assert.equal(a.completed_on, today);
    // Read-only now: results as text, no forms to change anything.
    assert.equal(await page.locator('#assessment-results select, #assessment-results input[name^="note."]').count(), 0);
    assert.equal(await page.locator('form#assessment-results button[type=submit]').count(), 0);
    assert.equal(await page.locator('form#evidence-upload, form#assessment-complete').count(), 0);
    assert.equal(await text(row(NOT_MET).locator('td:nth-child(3)')), 'Not met');
    assert.equal(await text(row(NOT_MET).locator('td:nth-child(4)')), NOT_MET_NOTE);
    assert.equal(await text(row(PARTLY).locator('td:nth-child(3)')), 'Partly met');
    assert.equal(await text(row(FILE_REQUIREMENT).locator('td:nth-child(3)')), 'Met');
    assert.equal(await page.locator('#assessment-results td:nth-child(5) a').count(), 2, 'the evidence stays');
    const n = requirementIds.length;
    assert.deepEqual(await tally(), { unassessed: 0, met: n - 2, partly: 1, not_met: 1, not_applicable: 0 });
    await screenshot('assessment-completed');

    const tasks = await apiGet('/api/v1/remediation-tasks');
    assert.deepEqual(
      tasks.map((t) => [t.requirement_id, t.title, t.owner, t.due_on, t.status, t.assessment_id]).sort(),
      [
        [NOT_MET, `${NOT_MET}: ${NOT_MET_NOTE}`, TASK_OWNER, due(), 'open', assessmentId],
        [PARTLY, `${PARTLY}: remediate (partly)`, TASK_OWNER, due(), 'open', assessmentId],
      ].sort(),
    );
  });

  await timed('7. the tasks page lists both; mark one done', async () => {
    await clickAndLoad(navLink('Govern'), (u) => u.pathname === '/areas/govern');
    await clickAndLoad(page.locator('main a', { hasText: exactly('Remediation tasks') }), (u) => u.pathname === '/govern/tasks');
    assert.equal(await text(page.locator('main h1')), 'Remediation tasks');
    const rows = page.locator('table#tasks tbody tr');
    assert.equal(await rows.count(), 2);
    assert.equal(await page.locator('table#tasks tbody tr[data-status=open]').count(), 2, 'both open');
    const notMet = rows.filter({ hasText: NOT_MET_NOTE });
    assert.equal(await notMet.count(), 1, 'one task is titled with the note');
    const cells = (await notMet.locator('td').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
    // due, task, unit, owner, status, action
    assert.deepEqual(cells, [due(), `${NOT_MET}: ${NOT_MET_NOTE} #${assessmentId}`, UNIT.name, TASK_OWNER, 'open', 'Mark done']);
    assert.equal(await notMet.locator(`td:nth-child(2) a[href="${assessmentPath}"]`).count(), 1, 'the task links to its assessment');
    assert.equal(await notMet.locator(`td:nth-child(3) a[href="${unitPath}"]`).count(), 1, 'and to its unit');
    const partly = rows.filter({ hasText: `${PARTLY}: remediate (partly)` });
    assert.equal(await partly.count(), 1);
    await screenshot('tasks-open');

    await clickAndLoad(partly.getByRole('button', { name: 'Mark done' }), (u) => u.pathname === '/govern/tasks' && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('.flash.ok')), 'Saved');
    const done = page.locator('table#tasks tbody tr', { hasText: `${PARTLY}: remediate (partly)` });
    assert.equal(await done.getAttribute('data-status'), 'done');
    assert.equal(await text(done.locator('td:nth-child(5)')), `done ${today}`);
    assert.match(await done.locator('td:nth-child(5) span.badge').getAttribute('class'), /\bgreen\b/);
    assert.equal(await done.locator('button').count(), 0, 'a done task cannot be marked again');
    const open = page.locator('table#tasks tbody tr', { hasText: NOT_MET_NOTE });
    assert.equal(await open.getAttribute('data-status'), 'open');
    assert.equal(await page.locator('table#tasks tbody tr[data-status=open]').count(), 1);
    // Open tasks first.
    assert.deepEqual(await page.locator('table#tasks tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.status)), ['open', 'done']);
    await screenshot('tasks-one-done');
  });

  await timed('8. the unit shows the completed assessment and its date', async () => {
    await gotoPage(unitPath);
    const items = page.locator('ul#assessments li');
    assert.equal(await items.count(), 1);
    assert.equal(await text(items.first()), `${today} · ${ASSESSOR} completed ${today}`);
    assert.match(await items.first().locator('span.badge').getAttribute('class'), /\bgreen\b/);
    assert.equal(await items.first().locator(`a[href="${assessmentPath}"]`).count(), 1);
    assert.equal(await text(unitDetail('Last compliance assessment')), today);
    // Still graded, not filed: a new assessment can be started.
    assert.equal(await text(page.locator('#unit-status')), 'Graded');
    assert.equal(await page.locator('form#start-assessment').count(), 1);
  });

  await timed('9. R1.2 stays red (nothing filed) and counts the open task', async () => {
    await clickAndLoad(navLink('Requirements'), (u) => u.pathname === '/govern/requirements');
    const statuses = await requirementStatuses();
    // Red because no unit is filed; the open task alone would make it amber.
    assert.equal(statuses['R1.2'], 'red');
    const r12 = await text(page.locator('tr[data-requirement="R1.2"]'));
    assert.match(r12, /open remediation tasks: 1\b/);
    assert.match(r12, /overdue remediation tasks: 0\b/);
    assert.equal(await page.locator('tr[data-requirement="R1.2"] a[href="/govern/tasks"]').count(), 2, 'both task counts link to the tasks');

    // The dashboard's recent activity has the completion.
    await clickAndLoad(navLink('Dashboard'), (u) => u.pathname === '/');
    assert.ok((await page.locator('main table code', { hasText: exactly('assessment.complete') }).count()) >= 1, 'assessment.complete among the recent activity');
  });

  await timed('no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });

  t.diagnostic(`${requirementIds.length} requirement rows; timings: ${timings.join('; ')}`);
});

