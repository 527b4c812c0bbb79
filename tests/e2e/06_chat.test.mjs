// E2E 6: two interactive `chat` sessions over piped stdin: messages as they arrive, typing,
// delivered and seen marks, /verify and /quit; commands mistyped and lines too long.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, chat, marker, send, sync, user, world } from './lib/e2e.mjs';

describe('interactive chat', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    // Typing and presence flow once both have written in the conversation.
    await send(w, a, b, marker(w, 'open'));
    await sync(w, b.devices[0]);
    await send(w, b, a, marker(w, 'open'));
    await sync(w, a.devices[0]);
  });
  after(async () => { await w?.close(); });

  // a's chat with b and b's with a, both connected.
  async function connectedChats() {
    const ca = chat(w, a.devices[0], b);
    const cb = chat(w, b.devices[0], a);
    await ca.waitFor((c) => c.err.includes('(connected)'), 'a connected');
    await cb.waitFor((c) => c.err.includes('(connected)'), 'b connected');
    return [ca, cb];
  }

  test('messages, typing, delivered and seen marks, /verify, /quit', async () => {
    const [ca, cb] = await connectedChats();

    ca.type('typing in progre');
    await cb.waitFor((c) => c.err.includes('is typing'), 'typing notice');
    const m = marker(w, 'chat');
    ca.type(`ss ${m}\n`);
    await cb.waitFor((c) => c.lines().some((l) => l.text === `typing in progress ${m}`), 'b shows the message');
    await ca.waitFor((c) => c.lines().some((l) => l.event === 'delivered'), 'delivered mark');
    await ca.waitFor((c) => c.lines().some((l) => l.event === 'read'), 'seen mark');

    const m2 = marker(w, 'reply');
    cb.type(`${m2}\n`);
    await ca.waitFor((c) => c.lines().some((l) => l.text === m2 && l.from === b.name), 'a shows the reply');

    ca.type('/verify\n');
    await ca.waitFor((c) => /safety number with/.test(c.out), 'safety number');
    ca.type('/quit\n');
    cb.child.stdin.end(); // end of input ends the chat too
    assert.equal(await ca.exited, 0, ca.err);
    assert.equal(await cb.exited, 0, cb.err);
    assert.doesNotMatch(ca.err + cb.err, /Sanitizer|runtime error/);
  });

  test('a mistyped command is never sent, // sends a leading slash, an overlong line is refused whole', async () => {
    const [ca, cb] = await connectedChats();
    ca.type('/help\n');
    await ca.waitOut('//text');
    ca.type('/bogus and some words\n');
    await ca.waitFor((c) => c.err.includes('no command /bogus;'), 'unknown command');
    ca.type(`${'x'.repeat(5000)}\n`);
    await ca.waitFor((c) => c.err.includes('not sent: a chat line holds at most 4095 bytes'), 'overlong line');
    const m = marker(w, 'slash');
    ca.type(`//${m}\n`);
    await cb.waitFor((c) => c.lines().some((l) => l.text === `/${m}`), 'b shows the slashed line');
    const last = marker(w, 'last');
    ca.type(`${last}\n`);
    await cb.waitFor((c) => c.lines().some((l) => l.text === last), 'b shows the next line');
    const texts = cb.lines().filter((l) => l.text !== undefined).map((l) => l.text);
    assert.deepEqual(texts.slice(-2), [`/${m}`, last]); // nothing else went out
    assert.ok(!texts.some((t) => t.startsWith('/help') || t.startsWith('/bogus') || t.startsWith('xxxx')), texts.join('\n'));
    await ca.quit();
    await cb.quit();
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
