// End-to-end test of incident handling times (issue #7) in headless
// Chromium: an incident discovered 45 minutes ago is acknowledged with the
// button on its page, closed through the status form after a follow-up
// action is added from the review section, and the dashboard then shows
// MTTA and MTTR of about 45 minutes, the open-incident count, and both
// charts (incidents per week by level, handling times per month). The
// drill list is reachable from the navigation.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/handling/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'handling');

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});

test('an incident is acknowledged and closed; the dashboard shows MTTA, MTTR and the charts', { timeout: 5 * 60_000 }, async (t) => {
  let incidentPath;

  await step(t, '1. an incident discovered 45 minutes ago, not yet acknowledged', async () => {
    await page.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(page, 'admin', server.password);
    await lib.clickAndLoad(page, page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    const discovered = new Date(Date.now() - 45 * 60_000).toISOString();
    const r = await lib.api(page, 'POST', '/api/v1/incidents', {
      incident_type: 'ddos',
      title: 'Resolver flood',
      discovered_at: discovered,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    incidentPath = `/incidents/${r.json.incident.id}`;
    await page.goto(url(incidentPath), { waitUntil: 'load' });
    assert.equal(await page.locator('#incident-handling [data-step=acknowledged]').getAttribute('data-at'), null);
  });

  await step(t, '2. acknowledge it with the button', async () => {
    await lib.clickAndLoad(page, page.locator('#acknowledge'), (u) => u.pathname === incidentPath);
    assert.equal(await page.locator('#acknowledge').count(), 0, 'acknowledged once');
    const ack = page.locator('#incident-handling [data-step=acknowledged]');
    assert.notEqual(await ack.getAttribute('data-at'), null);
    assert.match(await ack.innerText(), /\(\+4[56] min\)/);
    assert.match(await page.locator('#incident-timeline').innerText(), /acknowledged/);
  });

  await step(t, '3. add a follow-up action from the review section, then close the incident', async () => {
    const form = page.locator('#follow-up-form');
    await form.locator('input[name=title]').fill('Rate-limit the open resolvers');
    await form.locator('input[name=assignee]').fill('admin');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === incidentPath);
    assert.equal(await page.locator('#incident-follow-ups tr[data-follow-up]').count(), 1);
    const status = page.locator('#incident-status-form');
    await status.locator('select[name=status]').selectOption('closed');
    await lib.clickAndLoad(page, status.locator('button[type=submit]'), (u) => u.pathname === incidentPath);
    assert.equal(await page.locator('#incident-status').getAttribute('data-status'), 'closed');
    assert.notEqual(await page.locator('#incident-handling [data-step=closed]').getAttribute('data-at'), null);
    assert.equal(await page.locator('#closed-with-open-follow-ups').count(), 1, 'closing with an open follow-up is listed');
    await lib.screenshot(page, DIR, 'closed-incident');
  });

  await step(t, '4. the dashboard shows MTTA, MTTR and both charts', async () => {
    await page.goto(url('/'), { waitUntil: 'load' });
    const metrics = page.locator('#incident-metrics');
    assert.equal(await metrics.count(), 1);
    const mtta = metrics.locator('[data-metric=mtta]');
    assert.equal(await mtta.getAttribute('data-count'), '1');
    assert.match(await mtta.locator('.n').innerText(), /^4[56] min$/);
    const mttr = metrics.locator('[data-metric=mttr]');
    assert.equal(await mttr.getAttribute('data-count'), '1');
    assert.match(await mttr.locator('.n').innerText(), /^4[56] min$/);
    assert.equal(await metrics.locator('#open-incidents').getAttribute('data-open'), '0');
    // This week's bar holds the incident; the month's group has an MTTR bar.
    const week = metrics.locator('#incidents-per-week g.stack[data-total="1"]');
    assert.equal(await week.count(), 1);
    assert.equal(await metrics.locator('#handling-per-month rect[data-series=mttr]').count(), 1);
    assert.equal(await metrics.locator('#handling-per-month rect[data-series=mtta]').count(), 1);
    await lib.screenshot(page, DIR, 'dashboard');
  });

  await step(t, '5. the drill list is in the navigation', async () => {
    await lib.clickAndLoad(page, page.locator('nav a[href="/drills"]'), (u) => u.pathname === '/drills');
    assert.equal(await page.locator('#drills-upcoming').count(), 1);
    assert.equal(await page.locator('#drills-overdue').count(), 1);
    assert.equal(await page.locator('#drills-done').count(), 1);
  });

  await step(t, '6. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
