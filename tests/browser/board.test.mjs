// End-to-end test of the command-and-dispatch board (issue #7, R2.6) in
// headless Chromium with two separate browser sessions: the administrator
// (A) and a duty officer (B) both open the board of one incident. A adds a
// task assigned to B; B's board shows it without reloading (the server
// pushes a change over server-sent events and the page script swaps the
// board's parts). A posts a message, B sees it; B starts the task, A sees
// it move to "in progress".
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/board/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'board');
const OFFICER = 'duty-officer';
const OFFICER_PASSWORD = 'Board-test-password-7';
// How long B waits for a pushed change: generous for a busy CI machine,
// well under the 15 s after which the stream would notice by polling.
const PUSH_TIMEOUT_MS = 10_000;

let server;
let pageA;
let pageB;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  ready: async (s) => {
    ({ server, page: pageA, pageErrors, badResponses } = s);
    // B: a second, separate browser context (own cookies, own session).
    ({ page: pageB } = await lib.secondSession(s.browser, 'B', pageErrors, badResponses));
  },
});

const api = lib.api;

/** Waits until the board's event stream is connected. */
const live = (page) => page.waitForSelector('#board[data-live="true"]', { timeout: NAV_TIMEOUT_MS });

test('two sessions on one board: a task assigned by A appears for B without reload', { timeout: 5 * 60_000 }, async (t) => {
  let boardPath;

  await step(t, '1. A signs in, adds the duty officer and opens an incident', async () => {
    await pageA.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(pageA, 'admin', server.password);
    await lib.clickAndLoad(pageA, pageA.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    const units = await api(pageA, 'GET', '/api/v1/org-units');
    assert.equal(units.status, 200);
    const user = await api(pageA, 'POST', '/api/v1/users', {
      username: OFFICER,
      display_name: 'Duty Officer',
      role: 'responder',
      org_unit_id: units.json[0].id,
      password: OFFICER_PASSWORD,
    });
    assert.equal(user.status, 201, JSON.stringify(user.json));
    const incident = await api(pageA, 'POST', '/api/v1/incidents', {
      incident_type: 'ddos',
      title: 'Backbone DDoS drill',
      summary: 'Volumetric attack on the metro DNS resolvers',
      facts: { users_offline_scope: 'province' },
    });
    assert.equal(incident.status, 201, JSON.stringify(incident.json));
    boardPath = `/incidents/${incident.json.incident.id}/board`;
    await pageA.goto(url(`/incidents/${incident.json.incident.id}`), { waitUntil: 'load' });
    await lib.clickAndLoad(pageA, pageA.locator('#open-board'), (u) => u.pathname === boardPath);
    await live(pageA);
    // The clock is rendered by the server and kept current by the script.
    assert.match(await pageA.locator('#board-clock [data-deadline]').innerText(), /^left \d+h \d\dm$/);
    assert.equal(await pageA.locator('article.task').count(), 0);
  });

  await step(t, '2. B signs in in a separate session and opens the same board', async () => {
    await pageB.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(pageB, OFFICER, OFFICER_PASSWORD);
    await lib.clickAndLoad(pageB, pageB.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await pageB.goto(url(boardPath), { waitUntil: 'load' });
    await live(pageB);
    // Marks this document: a reload would lose it.
    await pageB.evaluate(() => {
      window.__boardDocument = 'original';
    });
    assert.equal(await pageB.locator('article.task').count(), 0);
  });

  await step(t, '3. A adds a task assigned to B; B sees it appear without reload', async () => {
    const form = pageA.locator('form#board-task-form');
    await form.locator('input[name=title]').fill('Divert resolver traffic to the scrubbing centre');
    await form.locator('input[name=assignee]').fill(OFFICER);
    await form.locator('input[name=due_at]').fill('2099-12-31T18:00');
    await lib.clickAndLoad(pageA, form.locator('button[type=submit]'), (u) => u.pathname === boardPath && u.searchParams.has('ok'));
    assert.equal(await pageA.locator('.board-column[data-status="open"] article.task').count(), 1);

    const card = pageB.locator(`.board-column[data-status="open"] article.task[data-assignee="${OFFICER}"]`);
    await card.waitFor({ timeout: PUSH_TIMEOUT_MS });
    assert.match(await card.innerText(), /Divert resolver traffic to the scrubbing centre/);
    assert.match(await card.innerText(), /2099-12-31 18:00 UTC/);
    assert.equal(await pageB.evaluate(() => window.__boardDocument), 'original', 'B reloaded the page');
    assert.equal(await pageB.locator(`#board-people li[data-person="${OFFICER}"]`).count(), 1);
    assert.match(await pageB.locator('#board-timeline').innerText(), /task #\d+ "Divert resolver traffic/);
    await lib.screenshot(pageB, DIR, 'b-sees-task');
  });

  await step(t, '4. A posts a message; B sees it', async () => {
    const form = pageA.locator('form#board-message-form');
    await form.locator('textarea[name=body]').fill('Upstream confirms the attack source, blackholing now');
    await lib.clickAndLoad(pageA, form.locator('button[type=submit]'), (u) => u.pathname === boardPath && u.searchParams.has('ok'));
    const message = pageB.locator('#board-messages li', { hasText: 'Upstream confirms the attack source' });
    await message.waitFor({ timeout: PUSH_TIMEOUT_MS });
    assert.match(await message.innerText(), /admin/);
    assert.equal(await pageB.evaluate(() => window.__boardDocument), 'original', 'B reloaded the page');
  });

  await step(t, '5. B starts the task; A sees it move to "in progress"', async () => {
    await pageA.evaluate(() => {
      window.__boardDocument = 'original';
    });
    const card = pageB.locator('article.task', { hasText: 'Divert resolver traffic' });
    await card.locator('select[name=status]').selectOption('in_progress');
    await lib.clickAndLoad(pageB, card.locator('button[type=submit]'), (u) => u.pathname === boardPath && u.searchParams.has('ok'));
    await pageA
      .locator('.board-column[data-status="in_progress"] article.task', { hasText: 'Divert resolver traffic' })
      .waitFor({ timeout: PUSH_TIMEOUT_MS });
    assert.equal(await pageA.locator('.board-column[data-status="open"] article.task').count(), 0);
    assert.equal(await pageA.evaluate(() => window.__boardDocument), 'original', 'A reloaded the page');
    await lib.screenshot(pageA, DIR, 'a-sees-progress');
  });

  await step(t, '6. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
