// End-to-end test of the anbao web UI in headless Chromium, driven the way a
// person would use it: sign in, switch the language, create and rename an
// organisation unit, create a user, read and filter the audit log, verify
// the hash chain, sign out, and sign in as the new (analyst) user.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
//
// Environment:
//   ANBAO_BIN        the anbao binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/anbao)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)
//   ANBAO_E2E_SLOWMO milliseconds between browser actions, for watching (default 0)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const RESULTS = path.join(HERE, 'test-results');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(REPO, 'target');
const BIN = path.resolve(process.env.ANBAO_BIN || path.join(TARGET_DIR, 'debug', 'anbao'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Generous: CI has 2 cores and may be compiling or testing alongside.
const START_TIMEOUT_MS = 60_000;
const ACTION_TIMEOUT_MS = 30_000;
const NAV_TIMEOUT_MS = 60_000;

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
let browser;
let context;
let page;
const pageErrors = [];
const badResponses = [];

// ---------------------------------------------------------------------------
// The server under test.

function startServer() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`anbao binary not found at ${BIN}: build it first (cargo build -p anbao) or set ANBAO_BIN`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anbao-browser-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const srv = { child, dataDir, url: null, password: null, stdout: [], stderr: [], exited: null };
  // Make sure neither a crash nor an interrupt of this process leaves the
  // server or its directory behind.
  process.once('exit', () => {
    if (srv.exited === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`anbao did not print "anbao listening on" within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    let settled = false;
    function fail(err) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      err.message += `\n--- stdout ---\n${srv.stdout.join('\n')}\n--- stderr (last 40 lines) ---\n${srv.stderr.slice(-40).join('\n')}`;
      // Hand the half-started server back so that cleanup still runs.
      server = srv;
      reject(err);
    }
    let outBuf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      outBuf += chunk;
      let nl;
      while ((nl = outBuf.indexOf('\n')) >= 0) {
        const line = outBuf.slice(0, nl).replace(/\r$/, '');
        outBuf = outBuf.slice(nl + 1);
        srv.stdout.push(line);
        const pw = line.match(/^\s*password:\s*(\S+)\s*$/);
        if (pw) srv.password = pw[1];
        const listen = line.match(/anbao listening on (https?:\/\/\S+)/);
        if (listen && !settled) {
          srv.url = listen[1].replace(/\/$/, '');
          if (!srv.password) return fail(new Error('anbao is listening but printed no administrator password'));
          settled = true;
          clearTimeout(timer);
          resolve(srv);
        }
      }
    });
    let errBuf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      errBuf += chunk;
      const lines = errBuf.split('\n');
      errBuf = lines.pop();
      srv.stderr.push(...lines);
      if (srv.stderr.length > 2000) srv.stderr.splice(0, srv.stderr.length - 1000);
    });
    child.on('error', (e) => fail(new Error(`could not start ${BIN}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      srv.exited = { code, signal };
      fail(new Error(`anbao exited early (code ${code}, signal ${signal})`));
    });
  });
}

async function stopServer(srv) {
  if (!srv) return;
  const { child } = srv;
  if (srv.exited === null && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise((resolve) => setTimeout(() => resolve(true), 10_000).unref()),
    ]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  fs.rmSync(srv.dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Helpers.

const url = (p) => server.url + p;
const pathOf = (u) => new URL(u).pathname;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (s) => new RegExp(`^\\s*${escapeRe(s)}\\s*$`);

/** Clicks `locator` (a link or submit button) and waits until the page has
 * loaded a new document whose URL satisfies `match` — even when the new URL
 * equals the old one. Fails on an error flash. Returns the page URL. */
async function clickAndLoad(locator, match, { allowErrorFlash = false } = {}) {
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (f) => f === page.mainFrame(),
    timeout: NAV_TIMEOUT_MS,
  });
  await locator.click();
  await navigated;
  await page.waitForLoadState('load', { timeout: NAV_TIMEOUT_MS });
  // A refused form (bad input, failed login) comes back with an error
  // message: say so at once rather than time out waiting for the URL.
  if (!allowErrorFlash) {
    const errors = page.locator('.flash.error');
    if ((await errors.count()) > 0) {
      throw new Error(`the page shows an error after the action: ${await errors.first().innerText()} (at ${page.url()})`);
    }
  }
  await page.waitForURL(match, { timeout: NAV_TIMEOUT_MS, waitUntil: 'load' });
  return page.url();
}

async function gotoPage(p) {
  const resp = await page.goto(url(p), { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
  return resp;
}

const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });

async function logIn(username, password) {
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await clickAndLoad(page.locator('#login-submit'), (u) => pathOf(u.href) !== '/login');
}

async function screenshot(name) {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Runs one step as a subtest; once a step fails the later ones are skipped
// (they build on each other), and the failing page is saved for inspection.
let failedStep = null;
async function step(t, name, fn) {
  await t.test(name, { skip: failedStep ? `after failed step "${failedStep}"` : false }, async () => {
    try {
      await fn();
    } catch (e) {
      failedStep = name;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      try {
        const shot = await screenshot(`FAILED-${slug}`);
        e.message += `\n(page ${page.url()}; screenshot ${shot})`;
      } catch {
        /* the page may be gone */
      }
      if (server) e.message += `\n--- server stderr (last 20 lines) ---\n${server.stderr.slice(-20).join('\n')}`;
      throw e;
    }
  });
}

// ---------------------------------------------------------------------------

before(async () => {
  fs.rmSync(RESULTS, { recursive: true, force: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: START_TIMEOUT_MS,
    slowMo: Number(process.env.ANBAO_E2E_SLOWMO || 0),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are reported (with their URL) by the response listener.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      pageErrors.push(`${pathOf(page.url())}: console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    // The analyst's 403 on /audit is checked explicitly. Anything else
    // >= 400 (a missing stylesheet or icon, a 500) is a bug.
    const p = pathOf(r.url());
    const expected = r.status() === 403 && p === '/audit';
    if (r.status() >= 400 && !expected) badResponses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await stopServer(server);
  }
});

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
    await page.locator('main .cards').waitFor();
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
