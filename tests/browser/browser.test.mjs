// End-to-end test of the anbao web UI in headless Chromium, driven the way a
// person would use it: sign in, switch the language, create and rename an
// organisation unit, create a user, read and filter the audit log, verify
// the hash chain, sign out, and sign in as the new (analyst) user.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// The server, browser and navigation helpers are in lib.mjs (which also
// lists the environment variables).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS, escapeRe, exactly, pathOf } from './lib.mjs';

// What the scenario creates.
const UNIT = 'Browser Test Dept';
const UNIT_RENAMED = 'Browser Test Dept (renamed)';
const UNIT_CODE = 'BT-01';
const USER = {
  username: 'browser.tester',
  display_name: 'Browser Tester',
  email: 'browser.tester@example.test',
  role: 'analyst',
  password: 'Corr3ct-Horse-Battery',
};

let grantsVisibleForAnalyst = null;
let server; // { child, url, password, dataDir, stderr: string[] }
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, screenshot } = lib.suite({
  // Only this file's screenshots: govern.test.mjs writes into a
  // subdirectory, possibly at the same time.
  dir: RESULTS,
  sharedDir: true,
  // The analyst's 403 on /audit is checked explicitly. Anything else
  // >= 400 (a missing stylesheet or icon, a 500) is a bug.
  expected: (r) => r.status() === 403 && pathOf(r.url()) === '/audit',
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});

// ---------------------------------------------------------------------------
// Helpers (bound to this file's page; see lib.mjs).


async function gotoPage(p) {
  const resp = await page.goto(url(p), { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
  return resp;
}

const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });
const logIn = (username, password) => lib.logIn(page, username, password);

test('a person administers anbao through the web UI', { timeout: 10 * 60_000 }, async (t) => {
  let unitId;
  let userId;

  await step(t, '1. sign in as admin and switch to English', async () => {
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    // The default language is Chinese.
    assert.match(await page.locator('html').getAttribute('lang'), /^zh/);
    await screenshot('login-zh');
    await logIn('admin', server.password);
    assert.equal(pathOf(page.url()), '/');

    const english = page.locator('header a[href^="/lang?set=en"]', { hasText: 'English' });
    await clickAndLoad(english, (u) => u.pathname === '/');
    assert.match(await page.locator('html').getAttribute('lang'), /^en/);
    const nav = page.locator('nav.main');
    await nav.locator('a', { hasText: exactly('Users') }).waitFor();
    await nav.locator('a', { hasText: exactly('Audit log') }).waitFor();
    assert.match(await page.locator('header a.who').innerText(), /\(Administrator\)/, 'the header names the signed-in account and its role');
  });

  await step(t, '2. create and rename an organisation unit', async () => {
    await clickAndLoad(navLink('Organisation units'), (u) => u.pathname === '/admin/org-units');
    const form = page.locator('form#create-unit');
    // The parent defaults to the admin's home unit (the root); keep it.
    const parentOptions = await form.locator('select[name=parent_id] option').count();
    assert.ok(parentOptions >= 1, 'the parent select offers at least one unit');
    await form.locator('input[name=name]').fill(UNIT);
    await form.locator('select[name=kind]').selectOption('department');
    await form.locator('input[name=code]').fill(UNIT_CODE);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === '/admin/org-units' && u.searchParams.has('ok'));
    await page.locator('.flash.ok').waitFor();

    const created = page.locator('li[data-unit] > span.unit-name', { hasText: exactly(UNIT) });
    await created.waitFor();
    assert.equal(await created.count(), 1, `exactly one unit named ${UNIT}`);
    unitId = await created.locator('xpath=..').getAttribute('data-unit');
    assert.match(unitId, /^\d+$/);
    const li = page.locator(`li[data-unit="${unitId}"]`);
    assert.equal((await li.locator(':scope > code').innerText()).trim(), UNIT_CODE);

    // Rename it in the tree.
    const edit = li.locator(':scope > details.edit');
    await edit.locator(':scope > summary', { hasText: exactly('Edit') }).click();
    const editForm = edit.locator(`form[action="/admin/org-units/${unitId}"]`);
    await editForm.locator('input[name=name]').waitFor({ state: 'visible' });
    assert.equal(await editForm.locator('input[name=name]').inputValue(), UNIT);
    await editForm.locator('input[name=name]').fill(UNIT_RENAMED);
    await clickAndLoad(editForm.locator('button[type=submit]', { hasText: 'Save' }), (u) => u.pathname === '/admin/org-units' && u.searchParams.has('ok'));

    const renamed = page.locator(`li[data-unit="${unitId}"] > span.unit-name`);
    assert.equal((await renamed.innerText()).trim(), UNIT_RENAMED);
    assert.equal(await page.locator('li[data-unit] > span.unit-name', { hasText: exactly(UNIT) }).count(), 0, 'the old name is gone from the tree');
    await screenshot('org-units');
  });

  await step(t, '3. create a user in the new unit', async () => {
    await clickAndLoad(navLink('Users'), (u) => u.pathname === '/admin/users');
    const form = page.locator('form#create-user');
    await form.locator('input[name=username]').fill(USER.username);
    await form.locator('input[name=display_name]').fill(USER.display_name);
    await form.locator('input[name=email]').fill(USER.email);
    await form.locator('select[name=role]').selectOption(USER.role);
    await form.locator('select[name=org_unit_id]').selectOption(unitId);
    await form.locator('input[name=password]').fill(USER.password);
    // Grants only apply to regulators: app.js hides the field for other roles.
    assert.equal(await form.locator('[data-grants]').getAttribute('hidden'), '', 'app.js marks grants hidden for an analyst');
    grantsVisibleForAnalyst = await form.locator('[data-grants]').isVisible();
    const detailUrl = await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/admin\/users\/\d+$/.test(u.pathname));
    userId = pathOf(detailUrl).split('/').pop();

    await page.locator('.flash.ok').waitFor();
    assert.match(await page.locator('main h1').innerText(), new RegExp(escapeRe(USER.username)));
    const dd = page.locator('main dl dd');
    await dd.filter({ hasText: exactly(USER.username) }).first().waitFor();
    await dd.filter({ hasText: exactly(USER.display_name) }).first().waitFor();
    await dd.filter({ hasText: exactly(USER.email) }).first().waitFor();
    await dd.filter({ hasText: new RegExp(`${escapeRe(UNIT_RENAMED)}\\s*$`) }).first().waitFor();
    await screenshot('user-detail');
  });

  await step(t, '4. read, filter and verify the audit log', async () => {
    await clickAndLoad(navLink('Audit log'), (u) => u.pathname === '/audit');
    const rows = page.locator('table#audit tbody tr');
    const rowFor = (action) => rows.filter({ has: page.locator('td code', { hasText: exactly(action) }) });

    // (The bootstrap administrator has a user.create entry of its own.)
    const userCreate = rowFor('user.create').filter({ hasText: JSON.stringify(USER.username) });
    assert.equal(await userCreate.count(), 1, `one user.create entry for ${USER.username}`);
    const userCreateText = await userCreate.innerText();
    assert.match(userCreateText, new RegExp(escapeRe(USER.username)), 'the user.create entry names the user');
    assert.match(userCreateText, /admin/, 'the user.create entry names the actor');
    assert.match(userCreateText, new RegExp(`\\buser ${userId}\\b`), 'the user.create entry names the object');

    const unitUpdate = rowFor('org_unit.update');
    assert.equal(await unitUpdate.count(), 1, 'one org_unit.update entry');
    const cells = unitUpdate.locator('td');
    const cellTexts = await cells.allInnerTexts();
    const [beforeCol, afterCol] = cellTexts.slice(-2);
    assert.match(beforeCol, new RegExp(`"${escapeRe(UNIT)}"`), 'the before column has the old name');
    assert.match(afterCol, new RegExp(escapeRe(JSON.stringify(UNIT_RENAMED))), 'the after column has the new name');
    assert.equal(await rowFor('org_unit.create').filter({ hasText: JSON.stringify(UNIT) }).count(), 1, 'one org_unit.create entry for the new unit');
    await screenshot('audit');

    // Filter by action prefix.
    const filters = page.locator('form#audit-filters');
    await filters.locator('input[name=action]').fill('user.');
    await clickAndLoad(filters.locator('button[type=submit]'), (u) => u.pathname === '/audit' && u.searchParams.get('action') === 'user.');
    const actions = (await page.locator('table#audit tbody tr td code').allInnerTexts()).map((s) => s.trim());
    assert.ok(actions.length >= 1, 'the filter keeps the user.* entries');
    for (const a of actions) assert.match(a, /^user\./, `only user.* entries after filtering, got ${a}`);
    assert.ok(actions.includes('user.create'));
    assert.equal(await filters.locator('input[name=action]').inputValue(), 'user.', 'the filter form keeps its value');

    // Verify the chain.
    await clickAndLoad(page.locator('a#verify'), (u) => u.pathname === '/audit' && u.searchParams.has('verify'));
    const result = page.locator('#verify-result');
    await result.waitFor();
    assert.match(await result.innerText(), /intact/i);
    assert.match(await result.getAttribute('class'), /\bok\b/);
    await screenshot('audit-verified');
  });

  await step(t, '5. dashboard, then sign out', async () => {
    await clickAndLoad(navLink('Dashboard'), (u) => u.pathname === '/');
    await page.locator('main .cards').first().waitFor();
    await screenshot('dashboard');

    await clickAndLoad(page.locator('#logout'), (u) => u.pathname === '/login');
    assert.equal(await page.locator('#logout').count(), 0, 'no sign-out button once signed out');
    await gotoPage('/admin/users');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    assert.equal(new URL(page.url()).searchParams.get('next'), '/admin/users');
  });

  await step(t, '6. sign in as the new analyst', async () => {
    // On the login page that /admin/users redirected to: back there after.
    await logIn(USER.username, USER.password);
    assert.equal(pathOf(page.url()), '/admin/users');
    const banner = page.locator('.flash.warn');
    await banner.waitFor();
    assert.match(await banner.innerText(), /change your initial password/i);
    assert.match(await page.locator('header a.who').innerText(), new RegExp(escapeRe(USER.display_name)));
    assert.equal(await navLink('Audit log').count(), 0, 'no audit link for an analyst');
    assert.equal(await page.locator('form#create-user').count(), 0, 'an analyst cannot create users');

    const resp = await gotoPage('/audit');
    assert.equal(resp.status(), 403);
    assert.match(await page.locator('h1').innerText(), /403/);
    await screenshot('analyst-forbidden');
  });

  await step(t, 'the granted-units field is hidden for an analyst', async () => {
    assert.equal(grantsVisibleForAnalyst, false);
  });

  await step(t, 'no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
