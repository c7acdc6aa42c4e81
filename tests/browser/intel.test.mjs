// End-to-end test of the threat-intelligence pages in headless Chromium:
// upload a small feed on the import page, follow the run page until it says
// done (app.js polls the run and reloads when it ends), find an indicator
// with the search, open its provenance, look a subdomain up and see the
// parent-domain match, then allowlist the domain and see the lookup say
// allowlisted.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/intel/. Environment
// variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS, exactly, pathOf } from './lib.mjs';

const DIR = path.join(RESULTS, 'intel');
const FEED_FILE = path.join(DIR, 'c2-feed.txt');
// Three good values and one that is no indicator (line 5; the comment is line 1).
const FEED = ['# botnet C&C, test feed', 'c2.intel-test.example', 'dl.intel-test.example', '198.51.100.0/24', 'not a value!', ''].join('\n');
const SOURCE = 'browser-feed';
// Enough values that the import runs for several seconds in several chunks
// (5k, 10k, 20k, 40k, then 50k each: see anbao-feeds' import.rs), so the
// run page is seen changing while it runs.
const BIG = 150_000;

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  prepare: () => fs.writeFileSync(FEED_FILE, FEED),
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});
const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

/** Looks `values` up with the form on /intel; returns the result rows. */
async function lookUp(values) {
  await clickAndLoad(navLink('Intel'), (u) => u.pathname === '/intel');
  const form = page.locator('form#lookup-form');
  await form.locator('textarea[name=lookup]').fill(values.join('\n'));
  await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === '/intel' && u.searchParams.has('lookup'));
  return page.locator('table#lookup-results tbody tr');
}

test('an analyst imports a feed, searches it, looks values up and allowlists one', { timeout: 5 * 60_000 }, async (t) => {
  let runPath;

  await step(t, '1. sign in, switch to English, open the intel pages', async () => {
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await clickAndLoad(navLink('Intel'), (u) => u.pathname === '/intel');
    assert.equal(await text(page.locator('#intel-total')), '0', 'nothing imported yet');
    await clickAndLoad(page.locator('#intel-import-link'), (u) => u.pathname === '/intel/import');
  });

  await step(t, '2. upload a feed and follow its run until it is done', async () => {
    const form = page.locator('form#intel-import');
    await form.locator('input[type=file][name=file]').setInputFiles(FEED_FILE);
    await form.locator('select[name=format]').selectOption('list');
    await form.locator('select[name=category]').selectOption('botnet_cc');
    await form.locator('input[name=source]').fill(SOURCE);
    await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/intel\/imports\/\d+$/.test(u.pathname));
    runPath = pathOf(page.url());
    // app.js follows the run and reloads the page when it has ended.
    await page.locator('#import-run[data-status="done"]').waitFor({ timeout: NAV_TIMEOUT_MS });
    assert.equal(await text(page.locator('#import-status')), 'done');
    assert.equal(await text(page.locator('#run-accepted')), '3');
    assert.equal(await text(page.locator('#run-rejected')), '1');
    assert.equal(await text(page.locator('#run-unreadable')), '0');
    assert.equal(await page.locator('#import-progress').getAttribute('value'), '1', 'the progress bar is full');
    const csv = await page.request.get(url(await page.locator('#rejects-csv').getAttribute('href')));
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /c2-feed\.txt: line 5,not a value!,/);
    await screenshot('import-run');
    await clickAndLoad(page.locator('#intel-import-link'), (u) => u.pathname === '/intel/import');
    assert.equal(await page.locator(`#import-runs a[href="${runPath}"]`).count(), 1, 'the run is listed');
  });

  await step(t, '3. search the feed and open an indicator', async () => {
    await clickAndLoad(navLink('Intel'), (u) => u.pathname === '/intel');
    assert.equal(await text(page.locator('#intel-total')), '3');
    assert.equal(await page.locator('#intel-stats svg rect.bar').count(), 1, 'one category in the chart');
    const filters = page.locator('form#intel-filters');
    await filters.locator('input[name=q]').fill('c2.intel-test');
    await clickAndLoad(filters.locator('button[type=submit]'), (u) => u.pathname === '/intel' && u.searchParams.get('q') === 'c2.intel-test');
    const rows = page.locator('table#indicators tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await text(rows.first()), /c2\.intel-test\.example domain Botnet C&C/);
    await screenshot('search');
    await clickAndLoad(rows.first().locator('a').first(), (u) => /^\/intel\/indicators\/\d+$/.test(u.pathname));
    assert.equal(await text(page.locator('#indicator-value')), 'c2.intel-test.example');
    const provenance = page.locator('table#provenance tbody tr');
    assert.equal(await provenance.count(), 1);
    assert.equal(await provenance.first().getAttribute('data-source'), SOURCE);
    await screenshot('indicator');
  });

  await step(t, '4. a subdomain matches through its parent domain', async () => {
    const rows = await lookUp(['www.c2.intel-test.example', '198.51.100.23', 'clean.example']);
    assert.equal(await rows.count(), 3);
    assert.equal(await rows.nth(0).getAttribute('data-result'), 'matched');
    assert.match(await text(rows.nth(0)), /parent domain c2\.intel-test\.example/);
    assert.match(await text(rows.nth(1)), /covering CIDR 198\.51\.100\.0\/24/);
    assert.equal(await rows.nth(2).getAttribute('data-result'), 'none');
    assert.match(await text(rows.nth(2)), /no match/);
    await screenshot('lookup');
  });

  await step(t, '5. an allowlist entry makes the lookup say allowlisted', async () => {
    await clickAndLoad(page.locator('#intel-allowlists-link'), (u) => u.pathname === '/intel/allowlists');
    const form = page.locator('form#allowlist-form');
    await form.locator('input[name=name]').fill('our own domains');
    await form.locator('select[name=list_type]').selectOption('hostname');
    await form.locator('textarea[name=entries]').fill('c2.intel-test.example');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === '/intel/allowlists' && u.searchParams.has('ok'));
    assert.equal(await page.locator('table#allowlists tbody tr[data-name="our own domains"]').count(), 1);
    await screenshot('allowlists');

    const rows = await lookUp(['www.c2.intel-test.example']);
    assert.equal(await rows.first().getAttribute('data-result'), 'allowlisted');
    assert.match(await text(rows.first()), /allowlisted our own domains: c2\.intel-test\.example/);
    await screenshot('lookup-allowlisted');
  });

  await step(t, '6. a large feed: the run page follows the counts while it runs', async () => {
    const big = path.join(DIR, 'big-feed.txt');
    const lines = [];
    for (let i = 0; i < BIG; i++) lines.push(`host-${i}.big-feed.example`);
    fs.writeFileSync(big, lines.join('\n'));
    await clickAndLoad(page.locator('#intel-import-link'), (u) => u.pathname === '/intel/import');
    const form = page.locator('form#intel-import');
    await form.locator('input[type=file][name=file]').setInputFiles(big);
    const started = performance.now();
    await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/intel\/imports\/\d+$/.test(u.pathname));
    const first = await page.locator('#import-run').getAttribute('data-status');
    if (first === 'running') {
      // The count changes in the very document loaded while running (a
      // marker set now survives): app.js's polling, not a reload.
      const initial = await text(page.locator('#run-accepted'));
      await page.evaluate(() => {
        window.intelTestMarker = true;
      });
      await page.waitForFunction(
        (before) =>
          window.intelTestMarker === true &&
          document.querySelector('#import-run')?.getAttribute('data-status') === 'running' &&
          document.querySelector('#run-accepted')?.textContent.trim() !== before,
        initial,
        { timeout: NAV_TIMEOUT_MS },
      );
      await screenshot('import-running');
    }
    await page.locator('#import-run[data-status="done"]').waitFor({ timeout: 4 * NAV_TIMEOUT_MS });
    assert.equal(await text(page.locator('#run-accepted')), String(BIG));
    t.diagnostic(`${BIG} values imported in ${((performance.now() - started) / 1000).toFixed(1)} s; the run page first said ${first}`);
  });

  await step(t, 'no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
