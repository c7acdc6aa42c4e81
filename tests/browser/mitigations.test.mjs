// End-to-end test of flow mitigation (issue #6) in headless Chromium: a
// server with a flow collector and a manual-approval group receives a
// NetFlow v9 replay of an NTP amplification attack; the RTBH rule appears
// on /flows/mitigations as proposed, the administrator approves it in the
// page, it shows as announced (the BGP speaker's helper, a script, got the
// ExaBGP line), is withdrawn in the page and shows as withdrawn.
//
// It starts its own `anbao serve` (flow_listen on a free UDP port, the
// ExaBGP helper writing to a file) and always stops it and removes its
// directories afterwards. Screenshots land in
// tests/browser/test-results/mitigations/. Environment variables: see lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lib from './lib.mjs';
import { RESULTS } from './lib.mjs';

const DIR = path.join(RESULTS, 'mitigations');
const VICTIM = [198, 51, 100, 7];
const ANNOUNCE = 'announce route 198.51.100.7/32 next-hop 192.0.2.254 community [64500:666]';
const WITHDRAW = 'withdraw route 198.51.100.7/32 next-hop 192.0.2.254';

let server;
let page;
let work;
let flowPort;
let pageErrors = [];
let badResponses = [];

const { url, step } = lib.suite({
  dir: DIR,
  prepare: async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'anbao-mitigations-'));
    process.once('exit', () => fs.rmSync(work, { recursive: true, force: true }));
    const groups = path.join(work, 'groups.toml');
    fs.writeFileSync(
      groups,
      '[[group]]\nname = "cust"\nprefixes = ["198.51.100.0/24"]\nhost = { pps = 20000 }\n' +
        'actions = { mode = "manual", rtbh = true, rtbh_community = "64500:666", hold_secs = 3600 }\n',
    );
    // The BGP speaker's helper: appends the ExaBGP API lines it reads to a file.
    const speaker = path.join(work, 'speaker.sh');
    fs.writeFileSync(speaker, `#!/bin/sh\nexec cat >> '${path.join(work, 'exabgp-api.txt')}'\n`);
    flowPort = await freeUdpPort();
    return {
      ANBAO_FLOW_LISTEN: `127.0.0.1:${flowPort}`,
      ANBAO_FLOW_GROUPS_FILE: groups,
      ANBAO_FLOW_MITIGATION_COMMAND: `sh '${speaker}'`,
      ANBAO_FLOW_MITIGATION_NEXT_HOP: '192.0.2.254',
    };
  },
  ready: (s) => ({ server, page, pageErrors, badResponses } = s),
  cleanup: () => fs.rmSync(work, { recursive: true, force: true }),
});

/** A free UDP port on loopback. */
async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** One NetFlow v9 export datagram (RFC 3954): the template and 30 records
 * of 100 packets from spoofed sources, UDP source port 123 (NTP), to the
 * victim (as crates/anbao/tests/it/flow.rs `v9_attack` builds it). */
function v9Attack(sequence) {
  const fields = [[8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [6, 1], [2, 4], [1, 4], [22, 4], [21, 4]];
  const uptime = 3_600_000;
  const template = Buffer.alloc(4 + fields.length * 4);
  template.writeUInt16BE(256, 0);
  template.writeUInt16BE(fields.length, 2);
  fields.forEach(([t, l], i) => {
    template.writeUInt16BE(t, 4 + i * 4);
    template.writeUInt16BE(l, 6 + i * 4);
  });
  const recordLen = fields.reduce((n, [, l]) => n + l, 0);
  const data = Buffer.alloc(30 * recordLen);
  for (let i = 0; i < 30; i++) {
    const n = sequence * 30 + i;
    let o = i * recordLen;
    data.set([100, 64 + ((n >> 16) & 0xff), (n >> 8) & 0xff, n & 0xff], o);
    data.set(VICTIM, o + 4);
    data.writeUInt16BE(123, o + 8);
    data.writeUInt16BE(40000, o + 10);
    data.writeUInt8(17, o + 12);
    data.writeUInt8(0, o + 13);
    data.writeUInt32BE(100, o + 14);
    data.writeUInt32BE(100 * 468, o + 18);
    data.writeUInt32BE(uptime - 900, o + 22);
    data.writeUInt32BE(uptime - 100, o + 26);
  }
  const header = Buffer.alloc(20);
  header.writeUInt16BE(9, 0);
  header.writeUInt16BE(31, 2);
  header.writeUInt32BE(uptime, 4);
  header.writeUInt32BE(Math.floor(Date.now() / 1000), 8);
  header.writeUInt32BE(sequence, 12);
  header.writeUInt32BE(7, 16);
  const set = (id, body) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(body.length + 4, 2);
    return Buffer.concat([h, body]);
  };
  return Buffer.concat([header, set(0, template), set(256, data)]);
}

async function sendAttack() {
  const s = dgram.createSocket('udp4');
  for (let sequence = 0; sequence < 20; sequence++) {
    await new Promise((resolve, reject) =>
      s.send(v9Attack(sequence), flowPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }
  await new Promise((resolve) => s.close(resolve));
}

/** Reloads /flows/mitigations until the rule's row is in `state` with
 * nothing pending; returns the row. */
async function waitForRow(state, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(url('/flows/mitigations'), { waitUntil: 'load' });
    // data-pending: what the executor has still to do.
    const row = page.locator(`#mitigations tr[data-state=${state}][data-pending=""]`);
    if ((await row.count()) === 1) return row;
    if (Date.now() > deadline) {
      throw new Error(`no ${state} rule on /flows/mitigations within ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const apiLines = () => {
  const file = path.join(work, 'exabgp-api.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
};

test('a manual rule is proposed, approved, announced and withdrawn on /flows/mitigations', { timeout: 5 * 60_000 }, async (t) => {
  await step(t, '1. an attack on a manual group proposes an RTBH rule', async () => {
    await page.goto(url('/login'), { waitUntil: 'load' });
    await lib.logIn(page, 'admin', server.password);
    await sendAttack();
    const row = await waitForRow('proposed');
    assert.equal((await row.locator('code.rule').innerText()).trim(), ANNOUNCE);
    assert.match(await row.innerText(), /198\.51\.100\.7/);
    assert.equal(await row.locator('button.approve').count(), 1);
    assert.deepEqual(apiLines(), [], 'nothing is announced before approval');
    await lib.screenshot(page, DIR, '1-proposed');
  });

  await step(t, '2. the administrator approves it in the page; it shows as announced', async () => {
    const row = page.locator('#mitigations tr[data-state=proposed]');
    await lib.clickAndLoad(page, row.locator('button.approve'), (u) => u.pathname === '/flows/mitigations');
    assert.equal(await page.locator('.flash.ok').count(), 1);
    const announced = await waitForRow('announced');
    assert.match(await announced.innerText(), /admin/, 'approved by the administrator');
    assert.equal(await announced.locator('button.withdraw').count(), 1);
    assert.deepEqual(apiLines(), [ANNOUNCE]);
    await lib.screenshot(page, DIR, '2-announced');
  });

  await step(t, '3. withdrawn in the page, it shows as withdrawn', async () => {
    const row = page.locator('#mitigations tr[data-state=announced]');
    await lib.clickAndLoad(page, row.locator('button.withdraw'), (u) => u.pathname === '/flows/mitigations');
    const withdrawn = await waitForRow('withdrawn');
    assert.match(await withdrawn.innerText(), /manual/, 'withdrawn by hand');
    assert.equal(await withdrawn.locator('button').count(), 0, 'nothing more to do');
    assert.deepEqual(apiLines(), [ANNOUNCE, WITHDRAW]);
    await page.goto(url('/flows/mitigations?state=withdrawn'), { waitUntil: 'load' });
    assert.equal(await page.locator('#mitigations tr[data-mitigation]').count(), 1);
    await lib.screenshot(page, DIR, '3-withdrawn');
  });

  await step(t, '4. no script errors and no failed requests', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badResponses, []);
  });
});
