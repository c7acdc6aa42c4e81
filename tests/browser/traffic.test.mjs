// End-to-end test of the traffic history charts in headless Chromium: with
// two hours of per-minute rows of host group dc1 (and of two of its hosts,
// one under attack) in the store, open the group's chart page, see the
// pps, bps and protocol-split charts over the last hour, switch to the
// last day (per-5-minute points), follow a recorded host to its own page;
// then read the group's usual traffic by hour of week, as the bus worker
// that detects it reports it.
//
// The rows are written by the flow collector in production (`anbao serve`
// with flow_listen, or `anbao flow worker`); here they are inserted into
// the server's SQLite database with the sqlite3 tool, as the store's
// `put_flow_traffic` writes them; likewise the worker's status row in
// `flow_nodes` (`put_flow_node`), with its hour-of-week profile of dc1.
// It starts its own `anbao serve` on a free
// port with an empty data directory, and always stops it and removes the
// directory afterwards. Screenshots land in tests/browser/test-results/traffic/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as lib from './lib.mjs';
import { ACTION_TIMEOUT_MS, NAV_TIMEOUT_MS, RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'traffic');
const VICTIM = '192.0.2.9';

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});

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
  sql(dataDir, statements);
}

const sql = (dataDir, statements) =>
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'anbao.db')], {
    input: statements.join('\n'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });

/** The hour of the week now at UTC+8: 0 is Monday 00:00 (the epoch was a Thursday). */
function slotNow() {
  const hour = Math.floor((Date.now() / 1000 + 8 * 3600) / 3600);
  return (hour + 72) % 168;
}

/** A bus worker's status row, fresh, as `anbao flow worker` writes it every
 * 5 seconds: dc1 at 70 000 pps now, its profile learnt for 3 weeks on
 * weekdays (20 000 pps at night, 60 000 by day, ready after 2 weeks) and
 * 1 week at the weekend (not ready). Slots are [pps, pps spread, bps, bps
 * spread, weeks learnt]. */
function seedWorker(dataDir) {
  const current = slotNow();
  const slots = [];
  for (let s = 0; s < 168; s++) {
    const day = Math.floor(s / 24);
    const pps = s % 24 >= 8 && s % 24 < 20 ? 60_000 : 20_000;
    slots.push([pps, pps / 10, pps * 4000, pps * 400, day >= 5 ? 1 : 3]);
  }
  const profile = {
    enabled: true, utc_offset_hours: 8.0, min_weeks: 2, current, factor: 3.0, deviations: 0.0,
    floor_pps: 10_000, floor_bps: 0, baseline_factor: 4.0, slots,
  };
  const now = Math.floor(Date.now() / 1000);
  const node = { id: 'worker:ANBAO_FLOWS:anbao-flow-workers-p0', role: 'worker', name: 'edge-p0', partition: 0 };
  const snapshot = {
    enabled: true, node, listen: ['anbao_flows.flows.0'], updated: now,
    counters: { datagrams: 0, not_flow: 0, decode_errors: 0, receive_errors: 0 },
    detector: { records: 1000, remote: 0, untracked: 0, evicted_hosts: 0, hosts: 3, attacks_started: 0, attacks_active: 0 },
    exporters: [],
    groups: [{
      name: 'dc1', pps: 70_000, bps: 280_000_000, flows: 700, baseline_pps: 65_000, baseline_bps: 260_000_000,
      baseline_ready: true, history: [[now - 1, 70_000]], profile,
    }],
    attacks: [],
  };
  const quote = (v) => `'${String(v).replaceAll("'", "''")}'`;
  sql(dataDir, [
    'INSERT INTO flow_nodes (node_id, role, name, bus_partition, snapshot, updated_at) VALUES (' +
      [quote(node.id), quote(node.role), quote(node.name), 0, quote(JSON.stringify(snapshot)), quote(new Date().toISOString())].join(', ') +
      ') ON CONFLICT (node_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at;',
  ]);
  return current;
}

test('an operator reads a group\'s traffic over the last hour and day, then a host\'s', { timeout: 5 * 60_000 }, async (t) => {
  await step(t, '1. sign in, switch to English, open the group chart page', async () => {
    seedTraffic(server.dataDir);
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await gotoPage('/flows/groups/dc1');
    assert.equal(await page.locator('#traffic-range').getAttribute('data-range'), 'hour');
    await page.locator('#no-profile').waitFor({ state: 'visible', timeout: ACTION_TIMEOUT_MS });
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

  await step(t, '5. the group\'s usual traffic by hour of week, from the worker that detects it', async () => {
    // The row and the page within a second of each other: the worker's
    // status is shown while it is under 30 s old.
    const current = seedWorker(server.dataDir);
    await gotoPage('/flows/groups/dc1');
    const chart = page.locator('#group-profile svg');
    assert.equal(await chart.getAttribute('data-slots'), '168');
    assert.equal(await chart.locator('g.slot').count(), 168);
    assert.equal(await chart.locator('g.slot[data-ready="false"]').count(), 48, 'the weekend: one week of two');
    assert.equal(await chart.locator('rect.not-ready').count(), 48, 'shaded');
    assert.equal(await chart.getAttribute('data-current'), String(current));
    assert.equal(await chart.locator('line.current').getAttribute('data-slot'), String(current));
    assert.equal(await chart.locator('circle.now').getAttribute('data-value'), '70000');
    const legend = await chart.locator('g.legend').evaluateAll((gs) => gs.map((g) => g.textContent.trim()));
    assert.deepEqual(legend, ['usual pps', 'usual ± spread', 'not ready (learning)', 'this hour, pps now']);
    const box = await chart.locator('polygon.band').boundingBox();
    assert.ok(box && box.width > 300, 'the band spans the week');
    const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
    const label = `${days[Math.floor(current / 24)]} ${String(current % 24).padStart(2, '0')}:00`;
    const now = await page.locator('#profile-now').innerText();
    assert.match(now, /Now\s+70\.0 k pps/);
    assert.ok(now.includes(`usual for ${label}`), now);
    assert.match(now, current >= 120 ? /pps\s+not ready 1 \/ 2 weeks/ : /pps\s+ready/, 'weekdays are ready');
    assert.match(now, /from node edge-p0/);
    assert.match(await page.locator('#profile-rule').innerText(), /over the highest of: 3 × the hour's usual pps; the floor of 10000 pps/);
    assert.match(await page.locator('#profile-weeks').innerText(), /this many weeks: 2; hours ready 120 \/ 168/);
    await chart.scrollIntoViewIfNeeded();
    await screenshot('profile');
  });

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(badResponses, []);
});
