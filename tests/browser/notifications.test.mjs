// End-to-end test of the notification settings page (issue #7) in headless
// Chromium: an admin adds a webhook channel, edits it (renamed, disabled,
// then enabled again) leaving the secret fields blank so the stored URL
// token and signing secret stay, adds a rule, edits and disables it, and
// queues a test notification that shows up in the delivery records. No
// secret ever appears on the page or in the audit log.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/notifications/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'notifications');
const URL_TOKEN = 'hook-token-4f1a9c';
const SECRET = 'webhook-signing-secret-0123456789';

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});
const channelRow = () => page.locator('#notify-channels tr[data-channel]');
const ruleRow = () => page.locator('#notify-rules tr[data-rule]');

/** Neither secret is anywhere in the page's markup. */
async function noSecretsOnPage() {
  const html = await page.content();
  assert.ok(!html.includes(URL_TOKEN), 'the URL token is not shown');
  assert.ok(!html.includes(SECRET), 'the signing secret is not shown');
}

test('an admin adds, edits, disables and tests notification channels and rules', { timeout: 5 * 60_000 }, async (t) => {
  await step(t, '1. add a webhook channel', async () => {
    await page.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(page, 'admin', server.password);
    await lib.clickAndLoad(page, page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await page.goto(url('/notifications'), { waitUntil: 'load' });
    const form = page.locator('#create-channel');
    await form.locator('input[name=name]').fill('SOC webhook');
    await form.locator('select[name=kind]').selectOption('webhook');
    await form.locator('input[name=url]').fill(`https://soc.example/hook?token=${URL_TOKEN}`);
    await form.locator('input[name=secret]').fill(SECRET);
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === '/notifications' && u.searchParams.has('ok'));
    assert.equal(await channelRow().count(), 1);
    assert.match(await channelRow().first().innerText(), /SOC webhook\s+webhook\s+https:\/\/soc\.example\/hook\s+on/);
    await noSecretsOnPage();
  });

  await step(t, '2. edit it with the secret fields blank: renamed and disabled, secrets kept', async () => {
    const row = channelRow().first();
    await row.locator('details.edit summary').click();
    const form = row.locator('form.edit-channel');
    assert.equal(await form.locator('input[name=url]').inputValue(), '', 'the URL (with its token) is not echoed');
    assert.equal(await form.locator('input[name=secret]').inputValue(), '');
    await form.locator('input[name=name]').fill('SOC webhook (night)');
    await form.locator('input[name=enabled]').uncheck();
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === '/notifications' && u.searchParams.has('ok'));
    assert.equal(await channelRow().first().getAttribute('data-enabled'), 'false');
    assert.match(await channelRow().first().innerText(), /SOC webhook \(night\)\s+webhook\s+https:\/\/soc\.example\/hook\s+off/);
    await noSecretsOnPage();
    // Enabled again, still without touching the secrets.
    const again = channelRow().first();
    await again.locator('details.edit summary').click();
    await again.locator('form.edit-channel input[name=enabled]').check();
    await lib.clickAndLoad(page, again.locator('form.edit-channel button[type=submit]'), (u) => u.searchParams.has('ok'));
    assert.equal(await channelRow().first().getAttribute('data-enabled'), 'true');
    await lib.screenshot(page, DIR, 'channel-edited');
  });

  await step(t, '3. add a rule, edit its threshold and disable it', async () => {
    const form = page.locator('#create-rule');
    await form.locator('select[name=event]').selectOption('alert');
    await form.locator('input[name=min_severity]').fill('4');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.searchParams.has('ok'));
    assert.equal(await ruleRow().count(), 1);
    const row = ruleRow().first();
    await row.locator('details.edit summary').click();
    const edit = row.locator('form.edit-rule');
    assert.equal(await edit.locator('input[name=min_severity]').inputValue(), '4');
    await edit.locator('input[name=min_severity]').fill('3');
    await edit.locator('input[name=enabled]').uncheck();
    await lib.clickAndLoad(page, edit.locator('button[type=submit]'), (u) => u.searchParams.has('ok'));
    const edited = ruleRow().first();
    assert.equal(await edited.getAttribute('data-enabled'), 'false');
    assert.match(await edited.innerText(), /^\s*alert\s+off\s+SOC webhook \(night\)\s+none\s+3\s+0/);
  });

  await step(t, '4. send a test notification: queued and listed', async () => {
    await lib.clickAndLoad(page, channelRow().first().locator('form[action$="/test"] button'), (u) => u.searchParams.has('ok'));
    assert.match(await page.locator('.flash.ok').innerText(), /Test notification queued/);
    const records = page.locator('#notifications tbody tr');
    assert.equal(await records.count(), 1);
    assert.match(await records.first().innerText(), /test\s+SOC webhook \(night\) \(webhook\)\s+\[anbao\] 测试通知 Test notification: SOC webhook \(night\)\s+pending/);
    await noSecretsOnPage();
    await lib.screenshot(page, DIR, 'test-queued');
  });

  await step(t, '5. every change is audited, without the secrets', async () => {
    const { status, json } = await lib.api(page, 'GET', '/api/v1/audit?limit=100');
    assert.equal(status, 200);
    const actions = json.map((e) => e.action).filter((a) => a.startsWith('notify_')).sort();
    assert.deepEqual(actions, [
      'notify_channel.create',
      'notify_channel.test',
      'notify_channel.update',
      'notify_channel.update',
      'notify_rule.create',
      'notify_rule.update',
    ]);
    const text = JSON.stringify(json);
    assert.ok(!text.includes(URL_TOKEN) && !text.includes(SECRET), 'no secret in the audit log');
  });

  await step(t, '6. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
