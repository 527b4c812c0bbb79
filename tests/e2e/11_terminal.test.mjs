// E2E 11: text from a contact cannot drive the reader's terminal. A message carrying escape
// sequences (clear screen, hidden text, the OSC 52 clipboard write), a right-to-left override
// and a line dressed as another sender's arrives intact in --json, and as inert text on the
// screen: sync, history and chat show U+FFFD for each control and indent the fake line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, chat, history, marker, ok, send, sync, user, world } from './lib/e2e.mjs';

const ESC = '\x1b';
const R = '\ufffd';
// Nothing a terminal acts on: C0 controls other than tab and newline, DEL, C1, bidi overrides.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u;

describe('hostile text on a terminal', () => {
  let w, a, b, m, hostile;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    m = marker(w, 'esc');
    hostile = `${m}${ESC}[2J${ESC}]52;c;aGk=\x07\u202Egnp.exe\n[2026-01-01 00:00:00] bank: your code?${ESC}[8m`;
    await send(w, a, b, hostile);
  });
  after(async () => { await w?.close(); });

  test('--json keeps the text exactly as sent', async () => {
    const got = await sync(w, b.devices[0]);
    assert.deepEqual(got.map((x) => x.text), [hostile]);
    assert.equal((await history(w, b.devices[0], a)).at(-1).text, hostile);
  });

  test('history on the screen: every control inert, the fake line indented', async () => {
    const out = (await ok(w, b.devices[0], ['history', a.name])).stdout;
    assert.doesNotMatch(out, CONTROL);
    assert.ok(out.includes(`${m}${R}[2J${R}]52;c;aGk=${R}${R}gnp.exe\n    [2026-01-01 00:00:00] bank: your code?${R}[8m`), out);
    assert.equal(out.split('\n').filter((l) => l.startsWith('[')).length, 1, 'one line starts like a message');
  });

  test('a live chat and a human sync show the same inert text', async () => {
    const second = `${marker(w, 'esc2')}${ESC}[31mred`;
    const reader = chat(w, b.devices[0], a, { json: false });
    await send(w, a, b, second);
    await reader.waitOut(`${R}[31mred`, 20000);
    await reader.quit();
    assert.doesNotMatch(reader.out, CONTROL);

    await send(w, a, b, second);
    const plain = (await ok(w, b.devices[0], ['sync'])).stdout;
    assert.ok(plain.includes(`${R}[31mred`), plain);
    assert.doesNotMatch(plain, CONTROL);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
