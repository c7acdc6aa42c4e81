// End-to-end test of the traffic history charts in headless Chromium: with
// two hours of per-minute rows of host group dc1 (and of two of its hosts,
// one under attack) in the store, open the group's chart page, see the
// pps, bps and protocol-split charts over the last hour, switch to the
// last day (per-5-minute points), follow a recorded host to its own page.
//
// The rows are written by the flow collector in production (`anbao serve`
// with flow_listen, or `anbao flow worker`); here they are inserted into
// the server's SQLite database with the sqlite3 tool, as the store's
// `put_flow_traffic` writes them. It starts its own `anbao serve` on a free
// port with an empty data directory, and always stops it and removes the
// directory afterwards. Screenshots land in tests/browser/test-results/traffic/.
// Environment variables: see lib.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'traffic');
const VICTIM = '192.0.2.9';

let server;
let browser;
let page;
let pageErrors = [];
let badResponses = [];

const url = (p) => server.url + p;
const clickAndLoad = (locator, match, opts) => lib.clickAndLoad(page, locator, match, opts);
const gotoPage = (p) => page.goto(url(p), { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
const screenshot = (name) => lib.screenshot(page, DIR, name);
const step = lib.stepper(() => ({ page, server, dir: DIR }));

/** Two hours of minutes of dc1 and of two hosts; the victim attacked 20 minutes ago. */
function seedTraffic(dataDir) {
  const now = Math.floor(Date.now() / 1000);
  const current = now - (now % 60);
  const statements = ['BEGIN;'];
  const row = (host, minute, packets, attacked) => {
    const scope = host === '' ? 'group' : 'host';
    const values = [
      `'${scope}'`, "'dc1'", `'${host}'`, minute, 60, packets, packets * 500, Math.floor(packets / 20),
      Math.floor(packets / 40), Math.floor((packets * 500 * 8) / 40),
      Math.floor(packets / 2), Math.floor(packets / 2), 0, 0, Math.floor(packets / 10), attacked ? Math.floor(packets / 2) : 0,
      attacked ? 1 : 0,
    ];
    statements.push(
      'INSERT INTO flow_traffic (scope, group_name, host, minute, seconds, packets, bytes, flows, peak_pps, peak_bps, ' +
        `tcp, udp, icmp, other, syn, amplification, attacked) VALUES (${values.join(', ')});`,
    );
  };
  for (let m = 1; m <= 120; m++) {
    const minute = current - m * 60;
    const attacked = m >= 18 && m <= 22;
    row('', minute, 60_000 + (attacked ? 600_000 : 0) + m * 60, attacked);
    row('192.0.2.1', minute, 30_000, false);
    if (attacked) row(VICTIM, minute, 2_000_000, true);
  }
  statements.push('COMMIT;');
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'anbao.db')], {
    input: statements.join('\n'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

before(async () => {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  try {
    server = await lib.startServer();
  } catch (e) {
    server = e.server; // so that after() still stops it
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

test('an operator reads a group\'s traffic over the last hour and day, then a host\'s', { timeout: 5 * 60_000 }, async (t) => {
  await step(t, '1. sign in, switch to English, open the group chart page', async () => {
    seedTraffic(server.dataDir);
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await gotoPage('/flows/groups/dc1');
    assert.equal(await page.locator('#traffic-range').getAttribute('data-range'), 'hour');
  });

  await step(t, '2. the last hour: three charts of per-minute points with their legends', async () => {
    const charts = page.locator('#traffic-charts svg');
    assert.equal(await charts.count(), 3, 'pps, bps, protocol split');
    const points = Number(await charts.first().getAttribute('data-points'));
    assert.ok(points >= 58 && points <= 60, `about 60 minutes, got ${points}`);
    assert.equal(await charts.first().locator('polyline.line').count(), 2, 'average and peak');
    const split = await charts.nth(2).locator('g.legend').evaluateAll((gs) => gs.map((g) => g.textContent));
    assert.deepEqual(split.map((s) => s.trim()), ['TCP', 'UDP', 'ICMP', 'other', 'SYN-only TCP', 'UDP from amplification ports']);
    const box = await charts.first().locator('polyline.line').first().boundingBox();
    assert.ok(box && box.width > 300, 'the line spans the chart');
    assert.match(await page.locator('#traffic-attacked').innerText(), /under attack\s+5 points/);
    await screenshot('hour');
  });

  await step(t, '3. switch to the last day: per-5-minute points', async () => {
    await clickAndLoad(page.locator('#traffic-range a[data-range="day"]'), (u) => u.pathname === '/flows/groups/dc1' && u.searchParams.get('range') === 'day');
    assert.equal(await page.locator('#traffic-range').getAttribute('data-range'), 'day');
    const points = Number(await page.locator('#traffic-charts svg').first().getAttribute('data-points'));
    assert.ok(points >= 24 && points <= 25, `two hours in 5-minute points, got ${points}`);
    await screenshot('day');
  });

  await step(t, '4. the hosts recorded, the victim flagged; open its page', async () => {
    const rows = page.locator('table#traffic-hosts tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-host'))), [VICTIM, '192.0.2.1']);
    assert.match(await rows.first().innerText(), /under attack/);
    await clickAndLoad(rows.first().locator('a'), (u) => u.pathname === `/flows/hosts/${VICTIM}`);
    assert.equal(await page.locator('#traffic-range').getAttribute('data-range'), 'day');
    const points = Number(await page.locator('#traffic-charts svg').first().getAttribute('data-points'));
    assert.ok(points === 1 || points === 2, `five attacked minutes make one 5-minute point or two, got ${points}`);
    await screenshot('host');
  });

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(badResponses, []);
});
