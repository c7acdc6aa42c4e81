// End-to-end test of the detection alert pages in headless Chromium: with
// three alerts of two subscribers in the store, open the alert list from
// the navigation, see the counts and the stacked chart of detections per
// hour, filter by victim, open an alert and its evidence, confirm it,
// record that the subscriber was notified, and see both on the alert and
// in its change history; then the infected-subscriber view, a bulk change
// of that subscriber's alerts, select-all with a bulk acknowledge of every
// alert on the page, and the detection status page.
//
// anbao has no command that writes alerts (the detection pipeline does),
// so the alerts are inserted into the server's SQLite database with the
// sqlite3 tool, rows as the store's `apply_alerts` writes them (alerts and
// their hourly counts). It starts its own `anbao serve` on a free port with
// an empty data directory, and always stops it and removes the directory
// afterwards. Screenshots land in tests/browser/test-results/alerts/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS, exactly } from './lib.mjs';

const DIR = path.join(RESULTS, 'alerts');
const VICTIM = '10.20.0.5';
const OTHER_VICTIM = '10.20.0.9';

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});
const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

/** A SQL string literal. */
const sql = (s) => (s === null ? 'NULL' : `'${String(s).replaceAll("'", "''")}'`);
/** The store's timestamp text: RFC 3339 UTC with milliseconds, like toISOString. */
const ts = (ms) => new Date(ms).toISOString();

/** Alerts as the detection pipeline leaves them, with their hourly counts. */
function seedAlerts(dataDir) {
  const now = Date.now();
  const hour = 3600_000;
  const alerts = [
    // [victim, rule, category, severity, indicator, observed, count, first, last, score, reason]
    [VICTIM, 'intel', 'botnet_cc', 3, 'c2.alerts-test.example', 'www.c2.alerts-test.example', 4, now - 5 * hour, now - hour, null, ''],
    [VICTIM, 'intel', 'phishing', 2, 'login-bank.alerts-test.example', 'login-bank.alerts-test.example', 1, now - 3 * hour, now - 3 * hour, null, ''],
    [OTHER_VICTIM, 'dga', 'dga', 2, 'xkqjzpwvbt.example', 'xkqjzpwvbt.example', 2, now - 2 * hour, now - 2 * hour, 87, 'random-looking label'],
  ];
  const statements = ['BEGIN;'];
  for (const [victim, rule, category, severity, indicator, observed, count, first, last, score, reason] of alerts) {
    const evidence = JSON.stringify({
      ts: ts(first), sensor: 'edge-1', kind: 'dns', src: victim, sport: 53124, dst: '192.0.2.53', dport: 53,
      proto: 'udp', summary: `query A ${observed}`,
    });
    const match = rule === 'intel' ? 'parent_domain' : 'entropy';
    statements.push(
      'INSERT INTO alerts (dedup_key, rule, category, severity, victim, indicator_id, indicator, match_how, field, ' +
        'observed, score, reason, count, first_seen, last_seen, sensor, evidence, status, created_at, updated_at) VALUES (' +
        [
          sql(`${rule}:${victim}:${indicator}`), sql(rule), sql(category), severity, sql(victim), 'NULL', sql(indicator),
          sql(match), sql('dns.qname'), sql(observed), score === null ? 'NULL' : score, sql(reason), count,
          sql(ts(first)), sql(ts(last)), sql('edge-1'), sql(evidence), sql('new'), sql(ts(now)), sql(ts(now)),
        ].join(', ') +
        ');',
      'INSERT INTO alert_hours (hour, category, events) VALUES (' +
        `${sql(ts(first).slice(0, 13))}, ${sql(category)}, ${count}) ` +
        'ON CONFLICT (hour, category) DO UPDATE SET events = alert_hours.events + excluded.events;',
    );
  }
  statements.push('COMMIT;');
  // The server holds the database open (WAL); sqlite3 waits for its locks.
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'anbao.db')], {
    input: statements.join('\n'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return alerts.length;
}

test('a responder triages an alert: chart, filter, evidence, status and action', { timeout: 5 * 60_000 }, async (t) => {
  let alertPath;

  await step(t, '1. alerts arrive; sign in, switch to English, open the alert list', async () => {
    assert.equal(seedAlerts(server.dataDir), 3);
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await clickAndLoad(navLink('Alerts'), (u) => u.pathname === '/alerts');
    assert.equal(await text(page.locator('#alerts-total')), '3');
    assert.equal(await text(page.locator('#alert-counts [data-count="new"]')), '3');
    assert.equal(await text(page.locator('#alert-counts [data-count="confirmed"]')), '0');
    assert.equal(await page.locator('table#alerts tbody tr').count(), 3);
  });

  await step(t, '2. the chart stacks detections per hour by category', async () => {
    const chart = page.locator('#alerts-chart svg');
    assert.equal(await chart.locator('g.stack').count(), 48, 'one bar per hour of the last 48');
    const segments = chart.locator('rect.seg');
    assert.equal(await segments.count(), 3, 'three hours with detections, one category each');
    const values = await segments.evaluateAll((rects) =>
      rects.map((r) => `${r.getAttribute('data-series')}=${r.getAttribute('data-value')}`).sort(),
    );
    assert.deepEqual(values, ['botnet_cc=4', 'dga=2', 'phishing=1']);
    const box = await segments.first().boundingBox();
    assert.ok(box && box.height > 0 && box.width > 0, 'the bars are drawn');
    assert.equal(await chart.locator('g.legend').count(), 3, 'a legend entry per category');
    await screenshot('list');
  });

  await step(t, '3. filter by victim', async () => {
    const filters = page.locator('form#alert-filters');
    await filters.locator('input[name=victim]').fill(VICTIM);
    await clickAndLoad(filters.locator('button[type=submit]'), (u) => u.pathname === '/alerts' && u.searchParams.get('victim') === VICTIM);
    const rows = page.locator('table#alerts tbody tr');
    assert.equal(await rows.count(), 2);
    for (const victim of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-victim')))) {
      assert.equal(victim, VICTIM);
    }
    assert.equal(await text(page.locator('#alerts-matching')), '2');
    assert.match(await text(rows.first()), /high .* 10\.20\.0\.5 c2\.alerts-test\.example Botnet C&C intel · parent domain · dns\.qname 4 new/);
    await screenshot('filtered');
  });

  await step(t, '4. open an alert: victim, indicator, evidence', async () => {
    const row = page.locator('table#alerts tbody tr', { hasText: 'c2.alerts-test.example' });
    await clickAndLoad(row.locator('a.alert-link'), (u) => /^\/alerts\/\d+$/.test(u.pathname));
    alertPath = new URL(page.url()).pathname;
    assert.equal(await text(page.locator('#alert-victim')), VICTIM);
    assert.equal(await text(page.locator('#alert-indicator')), 'c2.alerts-test.example');
    assert.equal(await text(page.locator('#alert-observed')), 'www.c2.alerts-test.example');
    assert.equal(await text(page.locator('#alert-count')), '4');
    assert.equal(await text(page.locator('#evidence-summary')), 'query A www.c2.alerts-test.example');
    const evidence = JSON.parse(await page.locator('#evidence-json').innerText());
    assert.equal(evidence.src, VICTIM);
    assert.equal(evidence.dport, 53);
    assert.equal(await page.locator('#alert-status [data-status="new"]').count(), 1);
    assert.equal(await page.locator('#no-actions').count(), 1);
    await screenshot('detail');
  });

  await step(t, '5. confirm it and record that the subscriber was notified', async () => {
    const statusForm = page.locator('form#alert-status-form');
    await statusForm.locator('select[name=status]').selectOption('confirmed');
    await clickAndLoad(statusForm.locator('button[type=submit]'), (u) => u.pathname === alertPath && u.searchParams.has('ok'));
    assert.equal(await page.locator('#alert-status [data-status="confirmed"]').count(), 1);

    const actionForm = page.locator('form#alert-action-form');
    await actionForm.locator('select[name=action]').selectOption('notified');
    await actionForm.locator('textarea[name=detail]').fill('SMS to the subscriber\nticket 4711');
    await clickAndLoad(actionForm.locator('button[type=submit]'), (u) => u.pathname === alertPath && u.searchParams.has('ok'));
    const actions = page.locator('table#alert-actions tbody tr');
    assert.equal(await actions.count(), 1);
    assert.equal(await actions.first().getAttribute('data-action'), 'notified');
    assert.match(await text(actions.first()), /subscriber notified SMS to the subscriber ticket 4711 admin$/);
    assert.equal(await page.locator('#alert-status [data-status="confirmed"]').count(), 1, 'the status stays');
    await screenshot('triaged');
  });

  await step(t, '6. both are in the change history and the counts', async () => {
    await clickAndLoad(page.locator('#alert-detail a', { hasText: 'Change history' }), (u) => u.pathname === '/audit');
    const audited = await page.locator('table#audit tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')));
    assert.deepEqual(audited.sort(), ['alert.action', 'alert.status']);
    await clickAndLoad(navLink('Alerts'), (u) => u.pathname === '/alerts');
    assert.equal(await text(page.locator('#alert-counts [data-count="confirmed"]')), '1');
    assert.equal(await text(page.locator('#alert-counts [data-count="new"]')), '2');
  });

  await step(t, '7. the infected subscribers, each leading to its alerts', async () => {
    await clickAndLoad(page.locator('#alerts-victims-link'), (u) => u.pathname === '/alerts/victims');
    const rows = page.locator('table#victims tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-victim'))), [VICTIM, OTHER_VICTIM]);
    const first = rows.first();
    assert.equal(await text(first.locator('[data-count="alerts"]')), '2');
    assert.equal(await text(first.locator('[data-count="events"]')), '5');
    await screenshot('victims');
    await clickAndLoad(first.locator('a').first(), (u) => u.pathname === '/alerts' && u.searchParams.get('victim') === VICTIM);
    assert.equal(await page.locator('table#alerts tbody tr').count(), 2);
  });

  await step(t, '7b. bulk: select both alerts of the subscriber, acknowledge them and assign them to admin', async () => {
    const bulk = page.locator('form#alert-bulk-form');
    for (const box of await bulk.locator('input[name=id]').all()) await box.check();
    assert.equal(await bulk.locator('input[name=id]:checked').count(), 2);
    await bulk.locator('select[name=status]').selectOption('acknowledged');
    await bulk.locator('input[name=assignee]').fill('admin');
    await clickAndLoad(bulk.locator('button[type=submit]'), (u) => u.pathname === '/alerts' && u.searchParams.get('victim') === VICTIM && u.searchParams.has('ok'));
    const rows = page.locator('table#alerts tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-status'), tr.getAttribute('data-assignee')])), [
      ['acknowledged', 'admin'],
      ['acknowledged', 'admin'],
    ]);
    await screenshot('bulk');
  });

  await step(t, '7c. select all: the header box selects every alert on the page, bulk acknowledge them all', async () => {
    await clickAndLoad(navLink('Alerts'), (u) => u.pathname === '/alerts');
    const bulk = page.locator('form#alert-bulk-form');
    const all = bulk.locator('#alerts-select-all');
    assert.equal(await all.isVisible(), true, 'the script shows the select-all box');
    assert.equal(await bulk.locator('input[name=id]').count(), 3);
    assert.equal(await bulk.locator('input[name=id]:checked').count(), 0);
    await all.check();
    assert.equal(await bulk.locator('input[name=id]:checked').count(), 3, 'every row on the page is selected');
    await bulk.locator('input[name=id]').first().uncheck();
    assert.equal(await all.evaluate((el) => el.indeterminate), true, 'one row unselected: the header box is mixed');
    await all.check();
    assert.equal(await bulk.locator('input[name=id]:checked').count(), 3);
    await bulk.locator('select[name=status]').selectOption('acknowledged');
    await clickAndLoad(bulk.locator('button[type=submit]'), (u) => u.pathname === '/alerts' && u.searchParams.has('ok'));
    const statuses = await page.locator('table#alerts tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
    assert.deepEqual(statuses, ['acknowledged', 'acknowledged', 'acknowledged']);
    assert.equal(await text(page.locator('#alert-counts [data-count="acknowledged"]')), '3');
    assert.equal(await text(page.locator('#alert-counts [data-count="new"]')), '0');
    assert.equal(await text(page.locator('#alert-counts [data-count="confirmed"]')), '0');
    await screenshot('select-all');
  });

  await step(t, '8. the detection status page: no inputs configured here, and how to configure them', async () => {
    await clickAndLoad(page.locator('#detection-link'), (u) => u.pathname === '/detection');
    assert.match(await text(page.locator('#no-inputs')), /No detection inputs are configured/);
    assert.equal(await text(page.locator('[data-count="alerts-written"]')), '0');
    assert.match(await text(page.locator('main pre')), /detect_inputs = \[.*iface:eth1/);
    await screenshot('detection');
  });

  await step(t, 'no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
