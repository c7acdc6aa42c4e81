// End-to-end test of warnings (issue #7, R2.4) in headless Chromium with
// two sessions: the administrator (A) issues a red warning to a watch
// officer (B) through the form; B finds it in the list and acknowledges it;
// A sees the acknowledgement, lowers the level to orange with a reason and
// lifts the warning; the history shows each step.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/warnings/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'warnings');
const OFFICER = 'watch-officer';
const OFFICER_PASSWORD = 'Warning-test-password-4';
const TITLE = 'Botnet C&C wave against home routers';

let server;
let pageA;
let pageB;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  ready: async (s) => {
    ({ server, page: pageA, pageErrors, badResponses } = s);
    ({ page: pageB } = await lib.secondSession(s.browser, 'B', pageErrors, badResponses));
  },
});

test('a warning issued by A is acknowledged by B, adjusted and lifted', { timeout: 5 * 60_000 }, async (t) => {
  let warningPath;

  await step(t, '1. A signs in, adds the watch officer and issues a red warning to them', async () => {
    await pageA.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(pageA, 'admin', server.password);
    await lib.clickAndLoad(pageA, pageA.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    const units = await lib.api(pageA, 'GET', '/api/v1/org-units');
    assert.equal(units.status, 200);
    const user = await lib.api(pageA, 'POST', '/api/v1/users', {
      username: OFFICER,
      display_name: 'Watch Officer',
      role: 'responder',
      org_unit_id: units.json[0].id,
      password: OFFICER_PASSWORD,
    });
    assert.equal(user.status, 201, JSON.stringify(user.json));

    await pageA.goto(url('/warnings'), { waitUntil: 'load' });
    await lib.clickAndLoad(pageA, pageA.locator('#new-warning'), (u) => u.pathname === '/warnings/new');
    await pageA.locator('select[name=level]').selectOption('red');
    await pageA.locator('input[name=title]').fill(TITLE);
    await pageA.locator('textarea[name=description]').fill('Mirai variant scanning TCP 23 and 2323');
    await pageA.locator('input[name=scope_regions]').fill('Guangdong，Fujian');
    await pageA.locator('textarea[name=required_actions]').fill('Block the listed C&C domains at the resolvers');
    await pageA.locator('select[name=recipient_users]').selectOption(String(user.json.id));
    await lib.clickAndLoad(pageA, pageA.locator('#issue-warning'), (u) => /^\/warnings\/\d+$/.test(u.pathname));
    warningPath = lib.pathOf(pageA.url());
    assert.equal(await pageA.locator('#warning').getAttribute('data-level'), 'red');
    assert.equal(await pageA.locator('#scope-regions').innerText(), 'Guangdong, Fujian');
    assert.equal((await pageA.locator('.ack-progress').innerText()).trim(), '0/1');
    assert.equal(await pageA.locator('#ack-warning').count(), 0, 'A is not a recipient');
    assert.equal(await pageA.locator('#history tr[data-action]').count(), 1);
  });

  await step(t, '2. B signs in, finds the warning in the list and acknowledges it', async () => {
    await pageB.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(pageB, OFFICER, OFFICER_PASSWORD);
    await lib.clickAndLoad(pageB, pageB.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await pageB.goto(url('/warnings'), { waitUntil: 'load' });
    const row = pageB.locator('#warnings tr[data-warning]', { hasText: TITLE });
    assert.equal(await row.locator('.ack-progress').innerText(), '0/1');
    await lib.clickAndLoad(pageB, row.locator('a'), (u) => u.pathname === warningPath);
    await lib.clickAndLoad(pageB, pageB.locator('#ack-warning'), (u) => u.pathname === warningPath);
    assert.equal(await pageB.locator('#ack-warning').count(), 0, 'nothing left to acknowledge');
    assert.equal(await pageB.locator('#recipients tr[data-acked="true"]').count(), 1);
    assert.match(await pageB.locator('#recipients').innerText(), new RegExp(OFFICER));
    await lib.screenshot(pageB, DIR, 'b-acknowledged');
  });

  await step(t, '3. A sees the acknowledgement, lowers the level with a reason, then lifts it', async () => {
    await pageA.goto(url(warningPath), { waitUntil: 'load' });
    assert.equal((await pageA.locator('.ack-progress').innerText()).trim(), '1/1');
    const adjust = pageA.locator('#adjust-form');
    await adjust.locator('select[name=level]').selectOption('orange');
    await adjust.locator('input[name=reason]').fill('C&C takedown under way');
    await lib.clickAndLoad(pageA, adjust.locator('#adjust-warning'), (u) => u.pathname === warningPath);
    assert.equal(await pageA.locator('#warning').getAttribute('data-level'), 'orange');
    const adjusted = pageA.locator('#history tr[data-action="adjusted"]');
    assert.match(await adjusted.innerText(), /red → orange/);
    assert.match(await adjusted.innerText(), /C&C takedown under way/);

    const lift = pageA.locator('#lift-form');
    await lift.locator('input[name=reason]').fill('All listed C&C servers are down');
    await lib.clickAndLoad(pageA, lift.locator('#lift-warning'), (u) => u.pathname === warningPath);
    assert.equal(await pageA.locator('#warning').getAttribute('data-status'), 'lifted');
    assert.match(await pageA.locator('#lifted').innerText(), /All listed C&C servers are down/);
    assert.equal(await pageA.locator('#adjust-form').count(), 0, 'a lifted warning cannot be adjusted');
    assert.equal(await pageA.locator('#history tr[data-action]').count(), 3);
    await lib.screenshot(pageA, DIR, 'a-lifted');
  });

  await step(t, '4. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
