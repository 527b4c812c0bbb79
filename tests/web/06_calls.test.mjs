// Calls between two browsers (issue 18): two users in two contexts of Debian's Chromium with
// fake camera and microphone, a real sottod and a real coturn (Debian's turnserver) on loopback
// with use-auth-secret. With "hide my IP address" (the default when the server offers TURN) a
// video call flows through the relay: each side decodes video frames, receives rising audio
// energy, and the selected candidate pair is relay on both ends; hanging up leaves a record
// with the call's duration (within a second of what the test measured) on both sides. Then a
// declined call (on a phone-sized screen) and an unanswered one (CALL_RING_SECONDS shortened),
// each with its record, and the callee's missed-call badge; Escape declines; a relay that cannot
// be reached ends in "could not connect" on both sides, not in a call connecting forever; and an
// offer envelope with one bit flipped by the server is refused by the callee.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { memoryHolds } from '../api/lib/memory.mjs';
import {
  cspViolations, launchBrowser, messageItem, openChatWith, prerequisites, register, screenshot, send, startChatWith,
  startServer, uniq, watch,
} from './lib/harness.mjs';

const missing = prerequisites();
const RING_SECONDS = 8;
const SECRET = 'web-calls-test-secret';
const tag = uniq('');
const A = { email: `alice${tag}@example.test`, username: `alice${tag}`, displayName: 'Alice' };
const B = { email: `bob${tag}@example.test`, username: `bob${tag}`, displayName: 'Bob' };
let server, chrome, turn, alice, bob;

/* ------------------------------------------------------------------ coturn */

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// turnserver on loopback (toolchain notes: "A relayed WebRTC call in headless Chromium through
// coturn"): loopback peers allowed, since both browsers are on this machine.
async function startTurn() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-turn-'));
  const port = await freePort();
  const relay = 50000 + Math.floor(Math.random() * 150) * 100;
  const conf = path.join(dir, 'turn.conf');
  writeFileSync(conf, [
    'realm=sotto.test', 'use-auth-secret', `static-auth-secret=${SECRET}`, 'fingerprint', 'no-tls', 'no-dtls',
    'allow-loopback-peers', 'no-cli', 'no-multicast-peers', 'listening-ip=127.0.0.1', 'relay-ip=127.0.0.1',
    `listening-port=${port}`, `min-port=${relay}`, `max-port=${relay + 99}`, 'log-file=stdout',
    `userdb=${path.join(dir, 'turn.db')}`, `pidfile=${path.join(dir, 'turn.pid')}`,
  ].join('\n') + '\n');
  const child = spawn('turnserver', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.on('close', r));
  const stop = async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; rmSync(dir, { recursive: true, force: true }); };
  for (let i = 0; i < 100; i += 1) {
    if (/Total General servers/.test(log)) return { port, relay: [relay, relay + 99], log: () => log, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`turnserver did not start:\n${log}`);
}

/* ------------------------------------------------------------------ helpers */

// Every RTCPeerConnection the page makes, kept for getStats (a test-only init script; the app
// has no hook for it).
const RECORD_PEERS = () => {
  const Real = window.RTCPeerConnection;
  window.sottoPeers = [];
  window.RTCPeerConnection = new Proxy(Real, {
    construct(target, args) {
      const pc = Reflect.construct(target, args);
      window.sottoPeers.push({ pc, config: args[0] });
      return pc;
    },
  });
};

/** When the page sent each call request over its WebSocket (ms), by event name, newest last. */
function trackCallFrames(page) {
  page.callFrames = {};
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
    try {
      const f = JSON.parse(String(payload));
      if (f.event?.startsWith('call:')) (page.callFrames[f.event] ??= []).push(Date.now());
    } catch { /* not JSON */ }
  }));
}

async function user() {
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', baseURL: server.base });
  await context.grantPermissions(['camera', 'microphone']);
  await context.addInitScript(RECORD_PEERS);
  const page = await context.newPage();
  watch(page);
  trackCallFrames(page);
  await page.goto('/');
  return { context, page };
}

async function until(what, f, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** The newest peer connection's media and path: frames decoded, audio energy, the selected pair. */
function mediaStats(page) {
  return page.evaluate(async () => {
    const last = window.sottoPeers.at(-1);
    if (!last) return null;
    const stats = await last.pc.getStats();
    const out = { policy: last.config?.iceTransportPolicy, ice: last.pc.iceConnectionState, framesDecoded: 0, audioEnergy: 0 };
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioEnergy += s.totalAudioEnergy ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? stats.get(pairId) : null;
    if (pair) {
      const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
      out.local = local?.candidateType;
      out.remote = remote?.candidateType;
      out.ports = [local?.port, remote?.port];
    }
    return out;
  });
}

const callScreen = (page) => page.getByRole('dialog', { name: /^Call with / });
const incoming = (page) => page.getByRole('dialog', { name: 'Incoming call' });
/** The call records of the open chat, newest last: [reason, seconds]. */
async function records(page) {
  return page.locator('[data-call-record]').evaluateAll((els) => els.map((e) => [e.dataset.callRecord, Number(e.dataset.callSeconds)]));
}

/* ------------------------------------------------------------------ scenarios */

// The secrets of the call's SDPs as both browsers hold them: the DTLS fingerprints and the ICE
// passwords (long and random, so finding one anywhere is no accident).
async function sdpSecrets(page) {
  return page.evaluate(() => window.sottoPeers.flatMap(({ pc }) =>
    [pc.localDescription?.sdp, pc.remoteDescription?.sdp].filter(Boolean).flatMap((sdp) =>
      [...sdp.matchAll(/^a=(?:fingerprint:\S+ |ice-pwd:)(\S{20,})\r?$/gm)].map((m) => m[1]))));
}

// The server never held an SDP in the clear: not in its database files, not in its log, and
// not anywhere in its memory, read while it runs. The positive control (the users' names, which
// it does hold) shows the memory read works.
async function serverNeverSawTheSdp() {
  const secrets = [...new Set([...(await sdpSecrets(alice.page)), ...(await sdpSecrets(bob.page))])];
  assert.ok(secrets.length >= 4, `fingerprints and ICE passwords of both sides: ${secrets.length}`);
  const files = readdirSync(server.dataDir).filter((f) => f.startsWith('sotto.db'))
    .map((f) => readFileSync(path.join(server.dataDir, f)));
  const db = Buffer.concat(files);
  for (const s of secrets) {
    assert.equal(db.includes(Buffer.from(s)), false, 'an SDP secret in the database');
    assert.equal(server.log.includes(s), false, 'an SDP secret in the log');
  }
  const mem = memoryHolds(server.child.pid, [...secrets, A.username, B.username]);
  assert.ok(mem.read > 1 << 20, `read ${mem.read} bytes of sottod's memory`);
  assert.ok(mem.found.includes(A.username), 'the positive control: a username in sottod\'s memory');
  assert.deepEqual(mem.found.filter((f) => secrets.includes(f)), [], 'an SDP secret in sottod\'s memory');
}

describe('calls between two browsers', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    turn = await startTurn();
    server = await startServer({
      TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET: SECRET, TURN_TTL: '3600',
      CALL_RING_SECONDS: String(RING_SECONDS), CALL_RECONNECT_SECONDS: '10',
    });
    chrome = await launchBrowser({
      args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-features=WebRtcHideLocalIpsWithMdns',
        '--autoplay-policy=no-user-gesture-required'],
    });
    alice = await user();
    bob = await user();
    await register(alice.page, A);
    await register(bob.page, B);
    // Calls need accepted contacts: each has written in the conversation.
    await startChatWith(alice.page, B.username);
    await send(alice.page, 'call me?');
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, 'call me?').waitFor({ timeout: 15000 });
    await send(bob.page, 'sure');
    await messageItem(alice.page, 'sure').waitFor({ timeout: 15000 });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    await turn?.stop();
  });

  test('a video call through the relay only: media both ways, then both see its duration', async () => {
    await alice.page.getByRole('button', { name: 'Video call' }).click();
    await incoming(bob.page).waitFor({ timeout: 20000 });
    assert.match(await incoming(bob.page).textContent(), /Alice is calling you \(video\)/);
    await callScreen(alice.page).getByText(/Ringing Bob/).waitFor();
    await incoming(bob.page).getByRole('button', { name: 'Accept with video' }).click();

    for (const p of [alice.page, bob.page]) {
      await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    }
    // Media flows both ways: frames decoded, and audio energy rising between two samples.
    const first = {};
    for (const [who, p] of [['alice', alice.page], ['bob', bob.page]]) {
      first[who] = await until(`${who} decodes video and hears audio`, async () => {
        const s = await mediaStats(p);
        return s && s.framesDecoded > 0 && s.audioEnergy > 0 ? s : null;
      });
      assert.equal(first[who].policy, 'relay', `${who}: relay-only policy`);
      assert.equal(first[who].local, 'relay', `${who}: the local candidate of the selected pair`);
      assert.equal(first[who].remote, 'relay', `${who}: the remote candidate of the selected pair`);
    }
    for (const [who, p] of [['alice', alice.page], ['bob', bob.page]]) {
      await until(`${who}'s audio energy rises and frames keep coming`, async () => {
        const s = await mediaStats(p);
        return s.audioEnergy > first[who].audioEnergy && s.framesDecoded > first[who].framesDecoded;
      });
    }
    await screenshot(alice.page, 'call-video-active');
    // Both ends of the path are coturn's relay ports (min-port..max-port of the test's server).
    for (const who of ['alice', 'bob']) {
      for (const port of first[who].ports) assert.ok(port >= turn.relay[0] && port <= turn.relay[1], `${who}: port ${port} is coturn's`);
    }

    // The controls: own video small and movable (drag), mute and camera as toggles.
    const own = callScreen(alice.page).getByRole('group', { name: 'Your video (drag to move)' });
    const at = await own.boundingBox();
    assert.ok(at && at.width < 300, 'own video is small');
    await alice.page.mouse.move(at.x + 20, at.y + 20);
    await alice.page.mouse.down();
    await alice.page.mouse.move(at.x + 320, at.y + 220, { steps: 5 });
    await alice.page.mouse.up();
    const moved = await own.boundingBox();
    assert.ok(moved.x > at.x + 200 && moved.y > at.y + 100, `dragged from ${JSON.stringify(at)} to ${JSON.stringify(moved)}`);
    await callScreen(alice.page).getByRole('button', { name: 'Mute' }).click();
    assert.equal(await callScreen(alice.page).getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed'), 'true');
    await callScreen(alice.page).getByRole('button', { name: 'Unmute' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Turn camera off' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Turn camera on' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Switch camera' }).waitFor();

    await new Promise((r) => setTimeout(r, 2000));
    await callScreen(alice.page).getByRole('button', { name: 'End call' }).click();
    // The truth: from Bob's answer to Alice's hang-up, as each left its browser.
    await until('the hang-up frame', () => alice.page.callFrames['call:end']?.length);
    const truth = (alice.page.callFrames['call:end'].at(-1) - bob.page.callFrames['call:answer'].at(-1)) / 1000;
    for (const p of [alice.page, bob.page]) {
      await callScreen(p).waitFor({ state: 'hidden', timeout: 15000 });
      const [reason, seconds] = await until('the call record', async () => (await records(p)).find((r) => r[0] === 'hangup'));
      assert.equal(reason, 'hangup');
      assert.ok(Math.abs(seconds - truth) < 1, `duration ${seconds}s, measured ${truth.toFixed(2)}s`);
    }
    // The timeline shows the duration as m:ss, the measured one (a busy machine may stretch it).
    for (const [p, dir] of [[alice.page, 'Outgoing'], [bob.page, 'Incoming']]) {
      const shown = await p.locator('[data-call-record="hangup"]').textContent();
      const [, m, ss] = shown.match(new RegExp(`^${dir} video call · (\\d+):(\\d\\d)$`)) ?? [];
      assert.ok(m !== undefined, shown);
      assert.ok(Math.abs(Number(m) * 60 + Number(ss) - truth) <= 1, `${shown}, measured ${truth.toFixed(2)}s`);
    }
    assert.deepEqual(cspViolations(alice.page), []);
    assert.deepEqual(cspViolations(bob.page), []);
    await serverNeverSawTheSdp();
  });

  test('the caller\'s connection drops and comes back: the call goes on through an ICE restart', async () => {
    await alice.page.getByRole('button', { name: 'Video call' }).click();
    await incoming(bob.page).getByRole('button', { name: 'Accept with video' }).click({ timeout: 20000 });
    for (const p of [alice.page, bob.page]) await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    const peers = await alice.page.evaluate(() => window.sottoPeers.length);
    await alice.context.setOffline(true);
    await alice.page.getByText('Offline: reconnecting…').waitFor({ timeout: 15000 });
    await new Promise((r) => setTimeout(r, 2000));
    const sent = { alice: alice.page.callFrames['call:ice-candidate']?.length ?? 0, bob: bob.page.callFrames['call:ice-candidate']?.length ?? 0 };
    await alice.context.setOffline(false);
    await alice.page.getByText('Offline: reconnecting…').waitFor({ state: 'hidden', timeout: 20000 });
    // Back: Alice sends a restart offer, Bob answers it (both over call:ice-candidate).
    await until('the restart offer and its answer', () =>
      (alice.page.callFrames['call:ice-candidate']?.length ?? 0) > sent.alice && (bob.page.callFrames['call:ice-candidate']?.length ?? 0) > sent.bob);
    const before = await mediaStats(bob.page);
    await until('frames still arriving at Bob', async () => (await mediaStats(bob.page)).framesDecoded > before.framesDecoded + 10);
    for (const p of [alice.page, bob.page]) await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 15000 });
    assert.equal(await alice.page.evaluate(() => window.sottoPeers.length), peers, 'the same peer connection');
    await callScreen(bob.page).getByRole('button', { name: 'End call' }).click();
    for (const p of [alice.page, bob.page]) await callScreen(p).waitFor({ state: 'hidden', timeout: 15000 });
    await until('two hang-up records', async () => (await records(alice.page)).filter((r) => r[0] === 'hangup').length === 2);
  });

  test('the caller does not come back within the reconnect time: the call ends as failed for both', async () => {
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).getByRole('button', { name: /^Accept/ }).first().click({ timeout: 20000 });
    for (const p of [alice.page, bob.page]) await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    await alice.context.setOffline(true);
    // CALL_RECONNECT_SECONDS is 10 here: past it the server ends the call as failed.
    await bob.page.locator('[data-call-notice="callEndedFailed"]').waitFor({ timeout: 30000 });
    await callScreen(bob.page).waitFor({ state: 'hidden', timeout: 5000 });
    await alice.context.setOffline(false);
    await alice.page.getByText('Offline: reconnecting…').waitFor({ state: 'hidden', timeout: 20000 });
    await callScreen(alice.page).waitFor({ state: 'hidden', timeout: 20000 });
    for (const p of [alice.page, bob.page]) {
      await until('a failed record', async () => (await records(p)).some((r) => r[0] === 'failed'));
    }
  });

  test('busy: someone calling a person who is in a call is told so, and the call goes on', async () => {
    const carol = await user();
    const C = { email: `carol${tag}@example.test`, username: `carol${tag}`, displayName: 'Carol' };
    await register(carol.page, C);
    await startChatWith(carol.page, B.username);
    await send(carol.page, 'carol here');
    await openChatWith(bob.page, 'Carol');
    await messageItem(bob.page, 'carol here').waitFor({ timeout: 15000 });
    await send(bob.page, 'hi carol');
    await messageItem(carol.page, 'hi carol').waitFor({ timeout: 15000 });
    await openChatWith(bob.page, 'Alice');
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).getByRole('button', { name: /^Accept/ }).first().click({ timeout: 20000 });
    for (const p of [alice.page, bob.page]) await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    await carol.page.getByRole('button', { name: 'Audio call' }).click();
    await carol.page.locator('[data-call-notice="callEndedBusy"]').waitFor({ timeout: 20000 });
    assert.equal(await incoming(bob.page).count(), 0, 'nothing rings for Bob');
    await callScreen(alice.page).locator('[data-call-state="connected"]').waitFor();
    await callScreen(alice.page).getByRole('button', { name: 'End call' }).click();
    for (const p of [alice.page, bob.page]) await callScreen(p).waitFor({ state: 'hidden', timeout: 15000 });
    await carol.context.close();
  });

  test('the callee\'s second device rings too, and stops when the first answers', async () => {
    const bob2 = await user();
    await bob2.page.getByLabel('Email').fill(B.email);
    await bob2.page.getByLabel('Password').fill('correct horse battery');
    await bob2.page.getByRole('button', { name: 'Sign in' }).click();
    await bob2.page.getByRole('button', { name: 'New chat' }).waitFor({ timeout: 20000 });
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob2.page).waitFor({ timeout: 20000 });
    await incoming(bob.page).getByRole('button', { name: /^Accept/ }).first().click({ timeout: 20000 });
    await incoming(bob2.page).waitFor({ state: 'hidden', timeout: 15000 });
    for (const p of [alice.page, bob.page]) await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    assert.equal(await callScreen(bob2.page).count(), 0, 'the second device is not in the call');
    await callScreen(alice.page).getByRole('button', { name: 'End call' }).click();
    for (const p of [alice.page, bob.page]) await callScreen(p).waitFor({ state: 'hidden', timeout: 15000 });
    await bob2.context.close();
  });

  test('a declined call, on a phone-sized screen: the caller is told, both see the record', async () => {
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await bob.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(alice.page).waitFor({ timeout: 20000 });
    assert.match(await incoming(alice.page).textContent(), /Bob is calling you \(audio\)/);
    // Full screen, buttons of 44 px or more.
    const screen = await incoming(alice.page).boundingBox();
    assert.deepEqual([screen.width, screen.height], [390, 844]);
    const decline = incoming(alice.page).getByRole('button', { name: 'Decline' });
    const box = await decline.boundingBox();
    assert.ok(box.width >= 44 && box.height >= 44, `decline is ${box.width}x${box.height}`);
    await screenshot(alice.page, 'call-incoming-phone');
    await decline.click();
    await bob.page.locator('[data-call-notice="callEndedRejected"]').waitFor({ timeout: 15000 });
    await callScreen(bob.page).waitFor({ state: 'hidden' });
    for (const p of [alice.page, bob.page]) {
      await until('the declined record', async () => (await records(p)).some((r) => r[0] === 'rejected'));
    }
    assert.match(await bob.page.locator('[data-call-record="rejected"]').textContent(), /Declined audio call/);
    await alice.page.setViewportSize({ width: 1280, height: 800 });
  });

  test('an unanswered call ends as missed after the ring time, with a badge for the callee', async () => {
    // Bob looks at another screen so that the missed call is news to him.
    await bob.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).waitFor({ timeout: 20000 });
    const rangAt = Date.now();
    // Keyboard: the ringing screen has focus, and Escape would decline; nobody touches it.
    await incoming(bob.page).waitFor({ state: 'hidden', timeout: (RING_SECONDS + 10) * 1000 });
    const rang = (Date.now() - rangAt) / 1000;
    assert.ok(rang > RING_SECONDS - 2, `rang ${rang.toFixed(1)}s`);
    await alice.page.locator('[data-call-notice="callEndedMissed"]').waitFor({ timeout: 10000 });
    const badge = bob.page.locator('[data-missed-calls]');
    await badge.waitFor({ timeout: 10000 });
    assert.equal(await badge.getAttribute('data-missed-calls'), '1');
    await openChatWith(bob.page, 'Alice');
    await until('the missed record', async () => (await records(bob.page)).some((r) => r[0] === 'missed'));
    assert.match(await bob.page.locator('[data-call-record="missed"]').textContent(), /Missed audio call/);
    assert.equal(await badge.count(), 0, 'opening the chat clears the badge');
    await until('the caller sees no answer', async () => (await records(alice.page)).some((r) => r[0] === 'missed'));
    assert.match(await alice.page.locator('[data-call-record="missed"]').textContent(), /Audio call: no answer/);
  });

  test('keyboard only: Escape declines a ringing call', async () => {
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).waitFor({ timeout: 20000 });
    const focused = await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    assert.equal(focused, 'Accept', 'focus starts on the main action');
    await bob.page.keyboard.press('Escape');
    await incoming(bob.page).waitFor({ state: 'hidden' });
    await alice.page.locator('[data-call-notice="callEndedRejected"]').waitFor({ timeout: 15000 });
  });

  test('a relay that cannot be reached: both are told the call could not connect, nothing rings on', async () => {
    // Both browsers get TURN credentials for a port where no relay listens (as with UDP blocked):
    // relay only, no candidate pair can form.
    const dead = { urls: ['turn:127.0.0.1:9?transport=udp'], username: '4102444800:x', credential: 'eA==', ttl: 60 };
    for (const u of [alice, bob]) await u.context.route('**/api/calls/turn-credentials', (r) => r.fulfill({ json: dead }));
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).waitFor({ timeout: 20000 });
    await incoming(bob.page).getByRole('button', { name: 'Accept' }).click();
    await callScreen(bob.page).locator('[data-call-state="connecting"]').waitFor();
    for (const p of [alice.page, bob.page]) {
      await p.locator('[data-call-notice="callCannotConnect"]').waitFor({ timeout: 35000 });
      assert.equal(await callScreen(p).count(), 0);
    }
    for (const u of [alice, bob]) await u.context.unroute('**/api/calls/turn-credentials');
    for (const p of [alice.page, bob.page]) await p.getByRole('button', { name: 'Dismiss' }).click();
  });

  test('an offer envelope with one bit flipped is refused by the callee, and the call ends cleanly', async () => {
    // The server as the adversary: Bob's socket goes through a relay that flips one bit of the
    // next call:incoming envelope (page.routeWebSocket; set up before the socket opens).
    let tampered = 0;
    await bob.context.routeWebSocket(/\/ws$/, (ws) => {
      const srv = ws.connectToServer();
      ws.onMessage((m) => srv.send(m));
      srv.onMessage((m) => {
        const f = JSON.parse(String(m));
        if (f.event === 'call:incoming' && !tampered) {
          const ct = Buffer.from(f.data.envelope.ciphertext, 'base64');
          ct[Math.floor(ct.length / 2)] ^= 0x01;
          f.data.envelope.ciphertext = ct.toString('base64');
          tampered += 1;
          ws.send(JSON.stringify(f));
          return;
        }
        ws.send(m);
      });
    });
    await bob.page.reload();
    await bob.page.getByRole('button', { name: 'New chat' }).waitFor({ timeout: 20000 });
    await alice.page.getByText(`@${B.username} · Online`).waitFor({ timeout: 15000 });
    await alice.page.getByRole('button', { name: 'Video call' }).click();
    await bob.page.locator('[data-call-notice="callRefused"]').waitFor({ timeout: 20000 });
    assert.equal(tampered, 1);
    assert.equal(await incoming(bob.page).count(), 0, 'the tampered call never rang');
    await callScreen(alice.page).waitFor({ state: 'hidden', timeout: 15000 });
    assert.ok(bob.page.sottoErrors.every((e) => !/Uncaught|pageerror/i.test(e)), bob.page.sottoErrors.join('\n'));
  });
});

// What `make run` gives: no TURN settings, so no relay and no relay-only policy; Chromium as a
// person runs it (local addresses hidden behind mDNS names). Two browsers on one machine still
// reach each other over host candidates.
describe('a call with make run\'s defaults: no TURN, two browsers on one machine', () => {
  before(async () => {
    server = await startServer({});
    chrome = await launchBrowser({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
    alice = await user();
    bob = await user();
    const a = { ...A, email: `a2${A.email}`, username: `${A.username}x` };
    const b = { ...B, email: `b2${B.email}`, username: `${B.username}x` };
    await register(alice.page, a);
    await register(bob.page, b);
    await startChatWith(alice.page, b.username);
    await send(alice.page, 'no relay here');
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, 'no relay here').waitFor({ timeout: 15000 });
    await send(bob.page, 'fine');
    await messageItem(alice.page, 'fine').waitFor({ timeout: 15000 });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('the call connects over host candidates and media flows both ways', async () => {
    await alice.page.getByRole('button', { name: 'Audio call' }).click();
    await incoming(bob.page).getByRole('button', { name: /^Accept/ }).first().click({ timeout: 20000 });
    for (const p of [alice.page, bob.page]) {
      await callScreen(p).locator('[data-call-state="connected"]').waitFor({ timeout: 30000 });
    }
    for (const [who, p] of [['alice', alice.page], ['bob', bob.page]]) {
      const s = await until(`${who} hears audio`, async () => { const x = await mediaStats(p); return x && x.audioEnergy > 0 ? x : null; });
      assert.notEqual(s.policy, 'relay', `${who}: no relay-only policy without TURN`);
      assert.equal(s.local, 'host', `${who}: a host candidate`);
    }
    await callScreen(alice.page).getByRole('button', { name: 'End call' }).click();
    for (const p of [alice.page, bob.page]) await callScreen(p).waitFor({ state: 'hidden', timeout: 15000 });
  });
});
