// End-to-end test of emergency plans and drills (issue #7, R2.1, R2.3) in
// headless Chromium: a plan is written through the form, revised into a
// second version with a change note, a drill of it is scheduled, started as
// an exercise incident (flagged, on the normal incident page and board) and
// evaluated with findings that link back to the plan's revision form. The
// plan's document is chosen in the form's file input, kept by a revision
// without a file, replaced by one with a file, and downloaded byte for byte.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/plans/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'plans');
const TITLE = 'Large-scale DDoS on the metro resolvers';
const DOC_V1 = Buffer.from('%PDF-1.7\n% plan document, first edition\n');
const DOC_V3 = Buffer.from('%PDF-1.7\n% plan document, after the drill\n');

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});

test('a plan is written, revised, drilled as an exercise incident and evaluated', { timeout: 5 * 60_000 }, async (t) => {
  let planPath;
  let drillPath;

  await step(t, '1. write a plan through the form', async () => {
    await page.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(page, 'admin', server.password);
    await lib.clickAndLoad(page, page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await page.goto(url('/plans'), { waitUntil: 'load' });
    await lib.clickAndLoad(page, page.locator('#new-plan'), (u) => u.pathname === '/plans/new');
    const form = page.locator('#plan-form');
    await form.locator('input[name=title]').fill(TITLE);
    await form.locator('input[name=owner]').fill('Network security department');
    await form.locator('input[name=review_cycle_months]').fill('6');
    await form.locator('input[name=scenarios][value=ddos]').check();
    await form.locator('input[name=scenarios][value=dns_failure]').check();
    await form.locator('textarea[name=contact_tree]').fill('Duty officer → head of NOC → CISO');
    await form.locator('textarea[name=steps]').fill('1. Confirm the attack\n2. Divert to scrubbing');
    await form.locator('input[type=file][name=document]').setInputFiles({ name: 'ddos-plan.pdf', mimeType: 'application/pdf', buffer: DOC_V1 });
    await lib.clickAndLoad(page, form.locator('#create-plan'), (u) => /^\/plans\/\d+$/.test(u.pathname));
    planPath = lib.pathOf(page.url());
    assert.equal(await page.locator('#plan').getAttribute('data-version'), '1');
    assert.equal(await page.locator('#plan').getAttribute('data-overdue'), 'false');
    assert.equal(await page.locator('#versions tr[data-version]').count(), 1);
    assert.equal((await page.locator('#versions tr[data-version="1"] a').innerText()).trim(), 'ddos-plan.pdf');
  });

  await step(t, '2. revise it: a second version with its change note, the first kept', async () => {
    const form = page.locator('#edit-plan-form');
    await form.locator('textarea[name=steps]').fill('1. Confirm the attack\n2. Announce RTBH\n3. Divert to scrubbing');
    await form.locator('input[name=change_note]').fill('RTBH step added after the spring drill');
    await lib.clickAndLoad(page, form.locator('#save-plan'), (u) => u.pathname === planPath);
    assert.equal(await page.locator('#plan').getAttribute('data-version'), '2');
    assert.match(await page.locator('#plan-steps').innerText(), /Announce RTBH/);
    assert.equal(await page.locator('#versions tr[data-version]').count(), 2);
    assert.match(await page.locator('#versions tr[data-version="2"]').innerText(), /RTBH step added after the spring drill/);
    // No file chosen: the version keeps the document.
    assert.equal((await page.locator('#versions tr[data-version="2"] a').innerText()).trim(), 'ddos-plan.pdf');
  });

  await step(t, '2b. upload a new edition of the document and download each version', async () => {
    const form = page.locator('#edit-plan-form');
    await form.locator('input[type=file][name=document]').setInputFiles({ name: 'ddos-plan-v3.pdf', mimeType: 'application/pdf', buffer: DOC_V3 });
    await form.locator('input[name=change_note]').fill('New edition of the document');
    await lib.clickAndLoad(page, form.locator('#save-plan'), (u) => u.pathname === planPath);
    assert.equal(await page.locator('#plan').getAttribute('data-version'), '3');
    const link = page.locator('#versions tr[data-version="3"] a');
    assert.equal((await link.innerText()).trim(), 'ddos-plan-v3.pdf');
    for (const [version, bytes] of [['3', DOC_V3], ['1', DOC_V1]]) {
      const href = await page.locator(`#versions tr[data-version="${version}"] a`).getAttribute('href');
      const r = await page.request.get(url(href));
      assert.equal(r.status(), 200);
      assert.match(r.headers()['content-disposition'], /^attachment;/);
      assert.deepEqual(Buffer.from(await r.body()), bytes, `version ${version} downloads as uploaded`);
    }
    await lib.screenshot(page, DIR, 'plan-documents');
  });

  await step(t, '3. schedule a drill of the plan and start it as an exercise incident', async () => {
    await page.goto(url(`/drills/new?plan_id=${planPath.split('/').pop()}`), { waitUntil: 'load' });
    const form = page.locator('#drill-form');
    await form.locator('select[name=scenario]').selectOption('ddos');
    await form.locator('input[name=scheduled_at]').fill('2099-06-01T09:30');
    await form.locator('textarea[name=participants]').fill('NOC duty team, security team');
    await lib.clickAndLoad(page, form.locator('#create-drill'), (u) => /^\/drills\/\d+$/.test(u.pathname));
    drillPath = lib.pathOf(page.url());
    assert.equal(await page.locator('#drill').getAttribute('data-status'), 'planned');
    await lib.clickAndLoad(page, page.locator('#start-exercise'), (u) => u.pathname === drillPath);
    const incident = page.locator('#exercise-incident');
    await lib.clickAndLoad(page, incident, (u) => /^\/incidents\/\d+$/.test(u.pathname));
    assert.equal(await page.locator('#incident-detail').getAttribute('data-exercise'), 'true');
    assert.equal(await page.locator('#exercise-badge').count(), 1);
    await lib.screenshot(page, DIR, 'exercise-incident');
  });

  await step(t, '4. evaluate the drill; its findings lead back to the plan', async () => {
    await page.goto(url(drillPath), { waitUntil: 'load' });
    assert.equal(await page.locator('#start-exercise').count(), 0, 'one exercise per drill');
    const form = page.locator('#drill-eval-form');
    await form.locator('select[name=status]').selectOption('done');
    await form.locator('textarea[name=evaluation]').fill('Scrubbing diversion took 14 minutes');
    await form.locator('textarea[name=findings]').fill('The contact tree lacked the upstream NOC');
    await lib.clickAndLoad(page, form.locator('#save-drill'), (u) => u.pathname === drillPath);
    assert.equal(await page.locator('#drill').getAttribute('data-status'), 'done');
    assert.match(await page.locator('#drill-findings').innerText(), /upstream NOC/);
    await lib.clickAndLoad(page, page.locator('#revise-from-findings'), (u) => u.pathname === planPath);
    assert.equal(await page.locator('#edit-plan-form').count(), 1);
    assert.equal(await page.locator('#drills tr[data-drill][data-status="done"]').count(), 1);
  });

  await step(t, '5. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
