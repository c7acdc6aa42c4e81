// End-to-end test of emergency plans and drills (issue #7, R2.1, R2.3) in
// headless Chromium: a plan is written through the form, revised into a
// second version with a change note, a drill of it is scheduled, started as
// an exercise incident (flagged, on the normal incident page and board) and
// evaluated with findings that link back to the plan's revision form.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/plans/.
// Environment variables: see lib.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'plans');
const TITLE = 'Large-scale DDoS on the metro resolvers';

let server;
let browser;
let page;
let pageErrors = [];
let badResponses = [];

const url = (p) => server.url + p;
const step = lib.stepper(() => ({ page, server, dir: DIR }));

before(async () => {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  try {
    server = await lib.startServer();
  } catch (e) {
    server = e.server;
    throw e;
  }
  ({ browser, page, pageErrors, badResponses } = await lib.launchBrowser());
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await lib.stopServer(server);
  }
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
    await lib.clickAndLoad(page, form.locator('#create-plan'), (u) => /^\/plans\/\d+$/.test(u.pathname));
    planPath = lib.pathOf(page.url());
    assert.equal(await page.locator('#plan').getAttribute('data-version'), '1');
    assert.equal(await page.locator('#plan').getAttribute('data-overdue'), 'false');
    assert.equal(await page.locator('#versions tr[data-version]').count(), 1);
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
