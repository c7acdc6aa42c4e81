// End-to-end test of evidence files and observables on an incident (issue
// #7) in headless Chromium: a file is uploaded through the incident page's
// form and downloaded back byte for byte as an attachment; an observable is
// added, looked up in the intel store (nothing known yet), published as an
// indicator in one click, looked up again (now found, from "incident #N")
// and found on /intel.
//
// It starts its own `anbao serve` on a free port with an empty data
// directory, and always stops it and removes the directory afterwards.
// Screenshots land in tests/browser/test-results/evidence/.
// Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS, NAV_TIMEOUT_MS } from './lib.mjs';

const DIR = path.join(RESULTS, 'evidence');
const FILE_NAME = 'beacon-capture.log';
const FILE_TEXT = '2026-11-25T10:00:00Z 10.0.0.7 query c2.evidence-test.example A\n';
const DOMAIN = 'c2.evidence-test.example';

let server;
let page;
let pageErrors = [];
let badResponses = [];
let tmpDir;

const { url, step } = lib.suite({
  dir: DIR,
  prepare: () => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anbao-evidence-'));
    fs.writeFileSync(path.join(tmpDir, FILE_NAME), FILE_TEXT);
  },
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
  cleanup: () => fs.rmSync(tmpDir, { recursive: true, force: true }),
});
const text = async (l) => (await l.innerText()).trim();

test('evidence is uploaded and downloaded; an observable is looked up, published and found in intel', { timeout: 5 * 60_000 }, async (t) => {
  let incidentPath;

  await step(t, '1. sign in and open an incident', async () => {
    await page.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(page, 'admin', server.password);
    await lib.clickAndLoad(page, page.locator('header a[href^="/lang?set=en"]'), (u) => u.pathname === '/');
    const r = await lib.api(page, 'POST', '/api/v1/incidents', {
      incident_type: 'malware',
      title: 'Botnet C2 beacons from the metro network',
      facts: { malware_spread_scope: 'city' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    incidentPath = `/incidents/${r.json.incident.id}`;
    await page.goto(url(incidentPath), { waitUntil: 'load' });
    assert.equal(await page.locator('#evidence-empty').count(), 1);
    assert.equal(await page.locator('#observables-empty').count(), 1);
  });

  await step(t, '2. upload an evidence file through the form', async () => {
    const form = page.locator('form#incident-evidence-upload');
    await form.locator('input[type=file][name=file]').setInputFiles(path.join(tmpDir, FILE_NAME));
    await form.locator('input[name=description]').fill('resolver log of the beacons');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('ok'));
    assert.equal(await text(page.locator('.flash.ok')), 'Evidence uploaded');
    const rows = page.locator('#evidence-table tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await text(rows.first()), new RegExp(`${lib.escapeRe(FILE_NAME)}\\s+text\\s+${FILE_TEXT.length} B`));
    const sha = crypto.createHash('sha256').update(FILE_TEXT).digest('hex');
    assert.equal(await rows.first().getAttribute('data-sha256'), sha);
    assert.match(await text(page.locator('#incident-timeline')), new RegExp(`evidence #\\d+ "${lib.escapeRe(FILE_NAME)}" added`));
    await lib.screenshot(page, DIR, 'evidence-uploaded');
  });

  await step(t, '3. download it back: the same bytes, as an attachment', async () => {
    const link = page.locator('#evidence-table a.evidence-download');
    const href = await link.getAttribute('href');
    const r = await page.request.get(url(href), { timeout: NAV_TIMEOUT_MS });
    assert.equal(r.status(), 200);
    const h = r.headers();
    assert.equal(h['content-type'], 'application/octet-stream');
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.match(h['content-disposition'], new RegExp(`^attachment; filename="${lib.escapeRe(FILE_NAME)}"`));
    assert.equal((await r.body()).toString('utf8'), FILE_TEXT);
    // A click saves it rather than showing it.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: NAV_TIMEOUT_MS }), link.click()]);
    assert.equal(download.suggestedFilename(), FILE_NAME);
  });

  await step(t, '4. add an observable; a bad value is refused with the reason', async () => {
    let form = page.locator('form#observable-form');
    await form.locator('select[name=kind]').selectOption('cidr');
    await form.locator('input[name=value]').fill('10.1.2.3/8');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('error'), { allowErrorFlash: true });
    assert.match(await text(page.locator('.flash.error')), /10\.0\.0\.0\/8/);
    form = page.locator('form#observable-form');
    await form.locator('select[name=kind]').selectOption('domain');
    await form.locator('input[name=value]').fill('C2.Evidence-Test.example');
    await form.locator('input[name=note]').fill('beacon destination');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('ok'));
    const row = page.locator(`#observable-table tr[data-value="${DOMAIN}"]`);
    assert.equal(await row.count(), 1, 'stored in normal form');
    assert.equal(await row.getAttribute('data-published'), 'false');
  });

  await step(t, '5. look it up: not in the intel store yet', async () => {
    const row = page.locator(`#observable-table tr[data-value="${DOMAIN}"]`);
    await lib.clickAndLoad(page, row.locator('a.observable-lookup'), (u) => u.pathname === incidentPath && u.searchParams.has('lookup'));
    const result = page.locator('#observable-lookup-result tr[data-value]');
    assert.equal(await result.getAttribute('data-result'), 'none');
  });

  let indicatorHref;
  await step(t, '6. publish it as an indicator in one click', async () => {
    const row = page.locator(`#observable-table tr[data-value="${DOMAIN}"]`);
    await row.locator('details.observable-publish summary').click();
    const form = row.locator('details.observable-publish form');
    await form.locator('select[name=category]').selectOption('botnet_cc');
    await form.locator('select[name=tlp]').selectOption('green');
    await form.locator('input[name=confidence]').fill('75');
    await lib.clickAndLoad(page, form.locator('button[type=submit]'), (u) => u.pathname === incidentPath && u.searchParams.has('ok'));
    const published = page.locator(`#observable-table tr[data-value="${DOMAIN}"]`);
    assert.equal(await published.getAttribute('data-published'), 'true');
    indicatorHref = await published.locator('a.observable-published').getAttribute('href');
    assert.match(indicatorHref, /^\/intel\/indicators\/\d+$/);
    assert.match(await text(page.locator('#incident-timeline')), /published as indicator #\d+ \(botnet_cc, TLP:green, confidence 75\)/);
  });

  await step(t, '7. the lookup now finds it, from this incident', async () => {
    const row = page.locator(`#observable-table tr[data-value="${DOMAIN}"]`);
    await lib.clickAndLoad(page, row.locator('a.observable-lookup'), (u) => u.pathname === incidentPath && u.searchParams.has('lookup'));
    const result = page.locator('#observable-lookup-result tr[data-value]');
    assert.equal(await result.getAttribute('data-result'), 'matched');
    const id = incidentPath.split('/').pop();
    assert.match(await text(result), new RegExp(`Botnet C&C · Confidence 75 · incident #${id}`));
    await lib.screenshot(page, DIR, 'observable-published');
  });

  await step(t, '8. and /intel lists it', async () => {
    await page.goto(url(`/intel?q=${DOMAIN}`), { waitUntil: 'load' });
    const rows = page.locator('table#indicators tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await text(rows.first()), /c2\.evidence-test\.example\s+domain\s+Botnet C&C\s+75\s+GREEN/i);
    await lib.clickAndLoad(page, rows.first().locator('a').first(), (u) => u.pathname === indicatorHref);
    const id = incidentPath.split('/').pop();
    assert.equal(await page.locator(`table#provenance tbody tr[data-source="incident #${id}"]`).count(), 1);
    await lib.screenshot(page, DIR, 'intel-indicator');
  });

  await step(t, '9. no script errors, no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
