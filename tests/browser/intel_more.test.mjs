// End-to-end test of the malware sample library and TAXII collection
// management in headless Chromium: upload a sample on the samples page,
// land on its detail page (hashes, type, family, download button, linked
// indicators), follow a linked indicator and back; then create a TAXII
// collection with the form, edit it and delete it.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/intel-more/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NAV_TIMEOUT_MS, RESULTS, exactly, pathOf } from './lib.mjs';

const DIR = path.join(RESULTS, 'intel-more');
const SAMPLE_FILE = path.join(DIR, 'bot.elf');
// ELF magic and some text: typed `elf`, never runnable.
const SAMPLE = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.from('anbao browser test sample\n')]);
const SHA256 = crypto.createHash('sha256').update(SAMPLE).digest('hex');

let server;
let page;
let pageErrors = [];
let badResponses = [];

const { url, step, clickAndLoad, gotoPage, screenshot } = lib.suite({
  dir: DIR,
  prepare: () => fs.writeFileSync(SAMPLE_FILE, SAMPLE),
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
});
const navLink = (text) => page.locator('nav.main a', { hasText: exactly(text) });
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

test('an admin uploads a sample and manages a TAXII collection', { timeout: 5 * 60_000 }, async (t) => {
  let samplePath;

  await step(t, '1. sign in, switch to English, open the samples page', async () => {
    await gotoPage('/');
    await page.waitForURL((u) => u.pathname === '/login', { timeout: NAV_TIMEOUT_MS });
    await lib.logIn(page, 'admin', server.password);
    await clickAndLoad(page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    await clickAndLoad(navLink('Intel'), (u) => u.pathname === '/intel');
    await clickAndLoad(page.locator('#intel-samples-link'), (u) => u.pathname === '/intel/samples');
    assert.equal(await page.locator('table#samples tbody tr').count(), 0, 'no samples yet');
  });

  await step(t, '2. upload a sample and see its detail page', async () => {
    const form = page.locator('form#sample-upload');
    await form.locator('input[type=file][name=file]').setInputFiles(SAMPLE_FILE);
    await form.locator('input[name=family]').fill('Mirai');
    await form.locator('textarea[name=notes]').fill('caught by the honeypot');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => /^\/intel\/samples\/\d+$/.test(u.pathname));
    samplePath = pathOf(page.url());
    assert.equal(await text(page.locator('#sample-sha256')), SHA256);
    assert.equal(await text(page.locator('#sample-type')), 'elf');
    assert.equal(await text(page.locator('#sample-family')), 'Mirai');
    assert.equal(await text(page.locator('#sample-name')), 'bot.elf');
    const download = page.locator('a#sample-download');
    assert.equal(await download.getAttribute('href'), `/api/v1/intel/samples/${samplePath.split('/').pop()}/download`);
    // The download is an encrypted zip, never the file itself.
    const zip = await page.request.get(url(await download.getAttribute('href')));
    assert.equal(zip.status(), 200);
    assert.equal(zip.headers()['content-type'], 'application/zip');
    assert.equal(zip.headers()['content-disposition'], `attachment; filename="${SHA256}.zip"`);
    const body = await zip.body();
    assert.equal(body.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.equal(body.indexOf(Buffer.from('anbao browser test sample')), -1, 'the content is encrypted');
    const indicators = page.locator('table#sample-indicators tbody tr');
    assert.equal(await indicators.count(), 3, 'md5, sha1 and sha256');
    await screenshot('sample');
  });

  await step(t, '3. a linked indicator links back to the sample; the list finds it by hash', async () => {
    const sha = page.locator('table#sample-indicators tbody tr', { hasText: SHA256 });
    await clickAndLoad(sha.locator('a'), (u) => /^\/intel\/indicators\/\d+$/.test(u.pathname));
    assert.equal(await text(page.locator('#indicator-value')), SHA256);
    await clickAndLoad(page.locator(`#indicator-samples a[href="${samplePath}"]`), (u) => u.pathname === samplePath);
    await clickAndLoad(page.locator('#intel-samples-link'), (u) => u.pathname === '/intel/samples');
    const search = page.locator('form#sample-search');
    await search.locator('input[name=q]').fill(SHA256.slice(0, 12));
    await clickAndLoad(search.locator('button[type=submit]'), (u) => u.pathname === '/intel/samples' && u.searchParams.has('q'));
    const rows = page.locator('table#samples tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await text(rows.first()), /elf .* Mirai bot\.elf/);
    await screenshot('samples');
  });

  await step(t, '4. create a TAXII collection with the form', async () => {
    await clickAndLoad(page.locator('#intel-taxii-link'), (u) => u.pathname === '/intel/taxii');
    assert.match(await text(page.locator('#taxii-connect')), /\/taxii2\//);
    const form = page.locator('form#taxii-form');
    await form.locator('input[name=title]').fill('Regulator feed');
    await form.locator('input[name=alias]').fill('regulator');
    await form.locator('input[name=can_read][value=regulator]').check();
    await form.locator('input[name=publish]').check();
    await form.locator('input[name=publish_category][value=botnet_cc]').check();
    await form.locator('select[name=max_tlp]').selectOption('amber');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === '/intel/taxii' && u.searchParams.has('ok'));
    const row = page.locator('table#taxii-collections tbody tr[data-title="Regulator feed"]');
    assert.equal(await row.count(), 1);
    const id = await row.getAttribute('data-collection');
    assert.equal(await text(row.locator('code.taxii-url')), `/taxii2/api/collections/${id}/`);
    assert.match(await text(row.locator('td[data-roles=read]')), /Regulator/);
    await screenshot('taxii');
  });

  await step(t, '5. edit the collection, then delete it', async () => {
    const row = page.locator('table#taxii-collections tbody tr[data-title="Regulator feed"]');
    await clickAndLoad(row.locator('a.edit-collection'), (u) => u.pathname === '/intel/taxii' && u.searchParams.has('edit'));
    const form = page.locator('form#taxii-form');
    assert.equal(await form.locator('input[name=title]').inputValue(), 'Regulator feed');
    await form.locator('input[name=title]').fill('Regulator feed (C&C)');
    await clickAndLoad(form.locator('button[type=submit]'), (u) => u.pathname === '/intel/taxii' && u.searchParams.has('ok'));
    const renamed = page.locator('table#taxii-collections tbody tr[data-title="Regulator feed (C&C)"]');
    assert.equal(await renamed.count(), 1);
    page.once('dialog', (d) => d.accept());
    await clickAndLoad(renamed.locator('form.delete-collection button'), (u) => u.pathname === '/intel/taxii' && u.searchParams.has('ok'));
    assert.equal(await page.locator('table#taxii-collections tbody tr').count(), 0);
  });

  await step(t, 'no script errors and no unexpected HTTP errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
