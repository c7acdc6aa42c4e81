// End-to-end test of the incident pages in headless Chromium: from the
// Respond area open the incidents, start a new one, enter facts and watch
// the level preview follow them (the page script asks
// POST /api/v1/incidents/grade, which records nothing), record it, see its
// level, the criterion that decided it and the countdown to the reporting
// deadline, override the level with a reason, fill in the personal-data
// leak banner (categories, people affected, regulator notified), and find
// it in the list.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/incidents/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'incidents');

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
/** Waits until the live preview shows `level`. */
const previewShows = (level) => page.waitForSelector(`#preview-level[data-level="${level}"]`, { timeout: NAV_TIMEOUT_MS });

test('a responder records an incident whose level preview follows the facts', { timeout: 5 * 60_000 }, async (t) => {
  let incidentPath;

  await step(t, '1. sign in, switch to English, reach the incidents from the Respond area', async () => {
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await gotoPage('/areas/respond');
    await clickAndLoad(page.locator('ul.modules a[href="/incidents"]'), (u) => u.pathname === '/incidents');
    assert.equal(await page.locator('#no-incidents').count(), 1);
    await clickAndLoad(page.locator('#new-incident'), (u) => u.pathname === '/incidents/new');
    assert.equal(await page.locator('#preview-level').getAttribute('data-level'), 'none');
  });

  await step(t, '2. the level preview follows the facts as they are typed', async () => {
    const form = page.locator('form#incident-form');
    await form.locator('select[name=incident_type]').selectOption('data_leak');
    await form.locator('input[name=title]').fill('Member database leak');
    // Exactly 100,000 records: "10 万以上" includes the number, so IV.
    await form.locator('input[name=records_leaked]').fill('100000');
    await previewShows('IV');
    assert.match(await text(page.locator('#preview-explanation')), /100,000 or more/);
    assert.match(await text(page.locator('#preview-deadline')), /240 minutes/);
    await form.locator('input[name=records_leaked]').fill('99999');
    await previewShows('none');
    assert.match(await text(page.locator('#preview-deadline')), /no reporting clock/);
    await form.locator('input[name=national_tld_affected]').check();
    await previewShows('I');
    assert.match(await text(page.locator('#preview-deadline')), /report immediately/);
    await form.locator('input[name=national_tld_affected]').uncheck();
    await form.locator('select[name=users_offline_scope]').selectOption('multi_province');
    await previewShows('II');
    await form.locator('select[name=operator_category]').selectOption('cii');
    await page.waitForFunction(() => /60 minutes/.test(document.querySelector('#preview-deadline').textContent));
    await screenshot('preview');
  });

  await step(t, '3. record it: level, why, and the countdown to the report', async () => {
    await clickAndLoad(page.locator('#create-incident'), (u) => /^\/incidents\/\d+$/.test(u.pathname));
    incidentPath = new URL(page.url()).pathname;
    assert.equal(await page.locator('#incident-level [data-level="II"]').count(), 1);
    assert.match(await text(page.locator('#incident-why')), /several provinces .* Plan 3\.2\(1\)/);
    assert.match(await text(page.locator('#incident-deadline')), /^left 0h 5\dm .* \(60 minutes\) report immediately$/);
    // Graded, then the personal-data leak's reporting duty (R5.4).
    assert.equal(await page.locator('table#incident-timeline tbody tr').count(), 2);
    assert.match(await text(page.locator('table#incident-timeline tbody tr').last()), /MIIT Order No\. 24/);
    await screenshot('recorded');
  });

  await step(t, '4. override the level with a reason', async () => {
    const form = page.locator('form#incident-level-form');
    await form.locator('select[name=level]').selectOption('III');
    await form.locator('textarea[name=reason]').fill('Outage confirmed in one province only');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('ok'));
    assert.equal(await page.locator('#incident-level [data-level="III"]').count(), 1);
    assert.match(await text(page.locator('#incident-why')), /Outage confirmed in one province only/);
    const rows = page.locator('table#incident-timeline tbody tr');
    assert.equal(await rows.count(), 3);
    assert.match(await text(rows.last()), /level overridden II → III/);
    await screenshot('overridden');
  });

  await step(t, '5. the personal-data leak banner: duties, categories, the regulator notified', async () => {
    assert.match(await text(page.locator('#leak-duty h2')), /Personal-data leak: reporting duty/);
    assert.equal(await page.locator('#leak-duty-regulator[data-met="false"]').count(), 1);
    const form = page.locator('form#leak-form');
    await form.locator('input[name=data_categories][value=contact]').check();
    await form.locator('input[name=data_categories][value=health]').check();
    await form.locator('input[name=affected_users]').fill('80000');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('ok'));
    assert.match(await text(page.locator('#leak-categories')), /^Contact details, Medical and health Sensitive personal information/);
    assert.equal(await text(page.locator('#leak-affected')), '80000');
    await clickAndLoad(
      page.locator('form#leak-notified-regulator button[type=submit]'),
      (u) => u.pathname === incidentPath && u.searchParams.has('ok'),
    );
    assert.equal(await page.locator('#leak-duty-regulator[data-met="true"]').count(), 1);
    assert.equal(await page.locator('#leak-duty-individuals[data-met="false"]').count(), 1);
    await screenshot('leak');
  });

  await step(t, '6. the list shows its level and clock', async () => {
    await clickAndLoad(page.locator('nav.main a[href="/incidents"]'), (u) => u.pathname === '/incidents');
    const row = page.locator('table#incidents tbody tr').first();
    assert.equal(await row.locator('[data-level="III"]').count(), 1);
    assert.match(await text(row), /Member database leak Personal-data leak .* left 0h 5\dm/);
    await screenshot('list');
  });

  await step(t, 'no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
