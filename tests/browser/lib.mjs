// Shared helpers of the browser tests (*.test.mjs): start and stop an
// `anbao serve` with a fresh data directory, launch headless Chromium with
// listeners for script errors and HTTP errors (`suite()` does both around a
// test file), navigate by clicking, sign in, take screenshots, and run
// dependent steps as subtests.
//
// Environment:
//   ANBAO_BIN        the anbao binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/anbao)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)
//   ANBAO_E2E_SLOWMO milliseconds between browser actions, for watching (default 0)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const RESULTS = path.join(HERE, 'test-results');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(REPO, 'target');
export const BIN = path.resolve(process.env.ANBAO_BIN || path.join(TARGET_DIR, 'debug', 'anbao'));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Generous: CI has 2 cores and may be compiling or testing alongside.
export const START_TIMEOUT_MS = 60_000;
export const ACTION_TIMEOUT_MS = 30_000;
export const NAV_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------
// The server under test.

/** Starts `anbao serve` on a free port with an empty data directory (and
 * the extra environment variables `env`, e.g. ANBAO_FLOW_LISTEN) and
 * resolves to { child, dataDir, url, password, stdout, stderr, exited } once
 * it listens. On failure the error carries the half-started server as
 * `err.server`, so that the caller can still stop it. */
export function startServer({ env = {} } = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`anbao binary not found at ${BIN}: build it first (cargo build -p anbao) or set ANBAO_BIN`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anbao-browser-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info', ...env },
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
      err.server = srv;
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

export async function stopServer(srv) {
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
// The browser.

/** Launches headless Chromium with one page. Script errors, console errors
 * and responses >= 400 are collected in `pageErrors` and `badResponses`,
 * except responses for which `expected(response)` returns true. */
export async function launchBrowser({ expected = () => false } = {}) {
  const browser = await chromium.launch({
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
  const page = await context.newPage();
  const pageErrors = [];
  const badResponses = [];
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are reported (with their URL) by the response listener.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      pageErrors.push(`${pathOf(page.url())}: console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    // Anything >= 400 that the test does not expect (a missing stylesheet or
    // icon, a 500) is a bug.
    if (r.status() >= 400 && !expected(r)) badResponses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { browser, context, page, pageErrors, badResponses };
}

/** A second, separate browser context (own cookies, own session) in
 * `browser`, its errors and failed responses added, prefixed with `name`,
 * to the first page's lists. */
export async function secondSession(browser, name, pageErrors, badResponses) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name} ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`${name} console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) badResponses.push(`${name} ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { context, page };
}

/** A JSON API call from inside a signed-in page (its session cookie and
 * CSRF header): `{ status, json }`. */
export async function api(page, method, p, body) {
  return page.evaluate(
    async ({ method, p, body }) => {
      const me = await (await fetch('/api/v1/me', { credentials: 'same-origin' })).json();
      const r = await fetch(p, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, json: await r.json() };
    },
    { method, p, body },
  );
}

// ---------------------------------------------------------------------------
// A test file's server and browser.

/** Registers the test file's before() and after() hooks. Before: empties the
 * screenshot directory `dir` (with `sharedDir`, only the screenshots directly
 * in it: other files write into its subdirectories), runs `prepare()`
 * (fixtures; what it returns, if anything, is added to the server's
 * environment), starts `anbao serve`, launches Chromium (`expected` as for
 * launchBrowser) and hands { server, browser, context, page, pageErrors,
 * badResponses } to `ready()`, which keeps what the tests use and may open
 * more sessions. After: closes the browser, stops the server (even a
 * half-started one) and runs `cleanup()`.
 *
 * Returns `url(p)`, the server's address of path `p`, and `step`, the
 * stepper of the first page. */
export function suite({ dir, sharedDir = false, prepare, expected, ready, cleanup }) {
  const s = {};
  before(async () => {
    if (sharedDir) {
      clearScreenshots(dir);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.mkdirSync(dir, { recursive: true });
    const env = await prepare?.();
    try {
      s.server = await startServer({ env });
    } catch (e) {
      s.server = e.server; // so that after() still stops it
      throw e;
    }
    Object.assign(s, await launchBrowser({ expected }));
    await ready?.(s);
  });
  after(async () => {
    try {
      await s.browser?.close();
    } finally {
      await stopServer(s.server);
      await cleanup?.();
    }
  });
  const url = (p) => s.server.url + p;
  return {
    url,
    step: stepper(() => ({ page: s.page, server: s.server, dir })),
    // The helpers below on the suite's page and screenshot directory.
    gotoPage: (p) => s.page.goto(url(p), { waitUntil: 'load', timeout: NAV_TIMEOUT_MS }),
    clickAndLoad: (locator, match, opts) => clickAndLoad(s.page, locator, match, opts),
    screenshot: (name) => screenshot(s.page, dir, name),
  };
}

// ---------------------------------------------------------------------------
// Helpers.

export const pathOf = (u) => new URL(u).pathname;
export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const exactly = (s) => new RegExp(`^\\s*${escapeRe(s)}\\s*$`);

/** Clicks `locator` (a link or submit button) and waits until the page has
 * loaded a new document whose URL satisfies `match` — even when the new URL
 * equals the old one. Fails on an error flash. Returns the page URL. */
export async function clickAndLoad(page, locator, match, { allowErrorFlash = false } = {}) {
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

export async function logIn(page, username, password) {
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await clickAndLoad(page, page.locator('#login-submit'), (u) => pathOf(u.href) !== '/login');
}

/** Removes the screenshots (*.png) directly in `dir`, leaving anything else
 * (another test file's subdirectory) alone. */
export function clearScreenshots(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.png')) fs.rmSync(path.join(dir, e.name), { force: true });
  }
}

export async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Returns `step(t, name, fn)`, which runs one step as a subtest; once a step
 * fails the later ones are skipped (they build on each other), and the
 * failing page is saved for inspection. `state()` gives { page, server, dir }
 * at the time of the failure. */
export function stepper(state) {
  let failedStep = null;
  return async function step(t, name, fn) {
    await t.test(name, { skip: failedStep ? `after failed step "${failedStep}"` : false }, async () => {
      try {
        await fn();
      } catch (e) {
        failedStep = name;
        const { page, server, dir } = state();
        const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        try {
          const shot = await screenshot(page, dir, `FAILED-${slug}`);
          e.message += `\n(page ${page.url()}; screenshot ${shot})`;
        } catch {
          /* the page may be gone */
        }
        if (server) e.message += `\n--- server stderr (last 20 lines) ---\n${server.stderr.slice(-20).join('\n')}`;
        throw e;
      }
    });
  };
}
