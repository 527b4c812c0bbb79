// E2E 21: issue 20, `sotto chat` on a real terminal (tmux, its own server on a socket in the
// scratch directory): a typo fixed with Left and Backspace goes out fixed; Up recalls the
// last line; cursor keys alone send nothing and never become text; a message that arrives
// while half a line is typed (a line longer than the terminal, so it wraps) is printed above
// it and leaves the typed text whole on the input line; Ctrl-D leaves with exit 0.
// Receipts (issue 20): each sent line carries its mark (✓ sent, ✓✓ delivered, ✓✓ read in
// colour), a receipt for a line already shown is a line of its own below ("✓✓ read: …"),
// `history` shows the same marks and --json its status; in the C locale the marks are words.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, chat, cliPath, history, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const COLS = 60;
const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

// A tmux session running one command: keys(), literal text(), the screen (screen(), joined:
// wrapped rows as one line) and waitScreen(pred) for what it shows.
function terminal(w, cmd, name = 'tmux') {
  const sock = path.join(w.root, `${name}.sock`);
  const tmux = (...args) => execFileSync('tmux', ['-S', sock, ...args], { encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'chat', '-x', String(COLS), '-y', '30', cmd);
  tmux('set-option', '-t', 'chat', 'remain-on-exit', 'on');
  const t = {
    keys: (...k) => tmux('send-keys', '-t', 'chat', ...k),
    text: (s) => tmux('send-keys', '-t', 'chat', '-l', s),
    screen: (joined = false) => tmux('capture-pane', '-p', '-t', 'chat', ...(joined ? ['-J'] : [])),
    // The last line with something on it, wrapped rows joined.
    inputLine: () => t.screen(true).split('\n').filter((l) => l.trim() !== '').at(-1) ?? '',
    pane: () => tmux('display-message', '-p', '-t', 'chat', '#{pane_dead}:#{pane_dead_status}').trim(),
    async waitScreen(pred, what, ms = 15000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (pred(t)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}\nscreen:\n${t.screen(true)}`);
    },
    close: () => { try { tmux('kill-server'); } catch { /* already gone */ } },
  };
  return t;
}

// What b received since the last look: the texts, in order.
async function received(w, b) {
  return (await sync(w, b.devices[0])).map((x) => x.text);
}

describe('line editing in sotto chat on a terminal', () => {
  let w, a, b, t;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await send(w, b, a, marker(w, 'open'));
    const cmd = [cliPath(), '--server', w.srv.base, '--profile', a.devices[0], 'chat', b.name].map(quote).join(' ');
    // After sotto, the shell reports its exit code and the terminal's modes (given back?).
    t = terminal(w, `env TERM=screen ${cmd}; echo "exit=$?"; stty -a | tr ' ' '\\n' | grep -x -e -icanon -e icanon -e -echo -e echo`);
    await t.waitScreen((x) => x.screen().includes('(connected)'), 'the chat to connect');
  });
  after(async () => {
    t?.close();
    await w?.close();
  });

  test('a typo fixed with Left and Backspace is sent fixed; Up recalls the line', async () => {
    const m = marker(w, 'typo');
    t.text(`${m} khỏe brwwn`);
    t.keys('Left', 'BSpace', 'Left');
    t.text('o');
    await t.waitScreen((x) => x.inputLine() === `> ${m} khỏe brown`, 'the fixed line');
    t.keys('Enter');
    await t.waitScreen((x) => x.screen(true).includes(`you: ${m} khỏe brown  `), 'the send');
    assert.deepEqual(await received(w, b), [`${m} khỏe brown`]);

    t.keys('Up');
    await t.waitScreen((x) => x.inputLine() === `> ${m} khỏe brown`, 'the recalled line');
    t.text('!');
    t.keys('Enter');
    await t.waitScreen((x) => x.screen(true).includes(`you: ${m} khỏe brown!  `), 'the second send');
    assert.deepEqual(await received(w, b), [`${m} khỏe brown!`]);
  });

  test('cursor keys alone send nothing and never become text', async () => {
    t.keys('Left', 'Right', 'Down', 'Home', 'End', 'Enter');
    const m = marker(w, 'keys');
    // Function keys, Insert, Page Up and modified arrows: sequences libedit does not bind.
    // A lone Escape too (a key right after it would be Meta with that key, as in Emacs).
    t.keys('Right', 'F5', 'Left', 'Insert', 'PageUp', 'S-Up', 'C-Right', 'F12', 'Escape');
    await new Promise((r) => setTimeout(r, 300));
    t.text(m);
    await t.waitScreen((x) => x.inputLine().endsWith(m), 'the typed line');
    assert.equal(t.inputLine(), `> ${m}`);
    t.keys('Enter');
    await t.waitScreen((x) => x.screen(true).includes(`you: ${m}  `), 'the send');
    assert.deepEqual(await received(w, b), [m]);
  });

  test('a message arriving mid-line is printed above it; the wrapped line stays whole', async () => {
    const half = `half typed ${'w'.repeat(COLS)} end`;
    t.text(half);
    await t.waitScreen((x) => x.inputLine() === `> ${half}`, 'the typed line');
    assert.ok(!t.screen().includes(half), 'the line wraps onto a second row');
    const m = marker(w, 'incoming');
    await send(w, b, a, m);
    await t.waitScreen((x) => x.screen(true).includes(m), 'the incoming message');
    const rows = t.screen(true).split('\n').filter((l) => l.trim() !== '');
    assert.equal(rows.at(-1), `> ${half}`, t.screen(true));
    assert.match(rows.at(-2), new RegExp(`${b.name}: ${m}$`));
    assert.equal(t.screen(true).split(half).length, 2, 'the typed line is on the screen once');
    // Not only shown: the editor still holds it, and the cursor is at its end.
    t.text(' more');
    t.keys('Enter');
    await t.waitScreen((x) => x.screen(true).includes(`you: ${half} more  `), 'the send');
    assert.deepEqual(await received(w, b), [`${half} more`]);
  });

  test('Ctrl-D on an empty line leaves with exit 0 and the terminal as it was', async () => {
    t.keys('C-d');
    await t.waitScreen((x) => x.pane().startsWith('1:'), 'sotto to exit');
    const rows = t.screen(true).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Pane is dead'));
    assert.deepEqual(rows.slice(-3), ['exit=0', 'icanon', 'echo'], t.screen(true));
    assert.doesNotMatch(t.screen(true), /Sanitizer|runtime error/);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

// The chat as `a` runs it in a terminal with this locale (NO_COLOR unset unless given).
function chatIn(w, a, b, env, name) {
  const cmd = [cliPath(), '--server', w.srv.base, '--profile', a.devices[0], 'chat', b.name].map(quote).join(' ');
  return terminal(w, `env -u NO_COLOR LC_ALL= LC_CTYPE= TERM=screen ${env} ${cmd}`, name);
}

// The last row (wrapped rows joined) that holds text.
const rowWith = (t, text) => t.screen(true).split('\n').filter((l) => l.includes(text)).at(-1) ?? '';

describe('receipts against the message in sotto chat', () => {
  let w, a, b;
  const ts = [];
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await send(w, b, a, marker(w, 'open'));
  });
  after(async () => {
    for (const t of ts) t.close();
    await w?.close();
  });

  test('sent, delivered, read: marks on the line, a line per change, and in history', async () => {
    const t = chatIn(w, a, b, 'LANG=C.UTF-8', 'utf8');
    ts.push(t);
    await t.waitScreen((x) => x.screen().includes('(connected)'), 'the chat to connect');
    const first = marker(w, 'first');
    t.text(first);
    t.keys('Enter');
    await t.waitScreen((x) => rowWith(x, `you: ${first}`) !== '', 'the first sent line');
    const m = marker(w, 'tick');
    t.text(m);
    t.keys('Enter');
    await t.waitScreen((x) => rowWith(x, `you: ${m}`) !== '', 'the sent line');
    assert.match(rowWith(t, `you: ${m}`), new RegExp(`\\] you: ${m}  ✓$`), t.screen(true));
    const quoted = `${m.slice(0, 30)}…`;

    await sync(w, b.devices[0]); // b's device has it: delivered
    await t.waitScreen((x) => x.screen(true).includes(`  ✓✓ delivered: ${quoted}`), 'the delivered line');
    assert.ok(t.screen(true).includes(`  ✓✓ delivered: ${first.slice(0, 30)}…\n`), t.screen(true));
    const reader = chat(w, b.devices[0], a, { json: false }); // a chat reads what it shows
    await reader.waitOut(m);
    await reader.quit();
    // One read cursor covers both: one line, for the newest.
    await t.waitScreen((x) => x.screen(true).includes(`read: ${quoted} (and 1 earlier)\n`), 'the read line');
    assert.ok(!t.screen(true).includes(`read: ${first.slice(0, 30)}`), t.screen(true));
    // Read is ✓✓ in colour on this terminal (TERM=screen, NO_COLOR unset).
    const coloured = execFileSync('tmux', ['-S', path.join(w.root, 'utf8.sock'), 'capture-pane', '-p', '-e', '-J', '-t', 'chat'], { encoding: 'utf8' });
    assert.match(coloured, new RegExp(`\\x1b\\[[0-9;]*34m✓✓\\x1b\\[[0-9;]*m read: ${quoted} `), coloured);
    assert.equal(t.screen(true).split(quoted).length, 3, 'one line per change');
    t.keys('C-d');
    await t.waitScreen((x) => x.pane().startsWith('1:'), 'sotto to exit');

    // Sent after the read, and one left in the outbox (committed, then the process died before
    // the post): history shows all three.
    const later = marker(w, 'later');
    await send(w, a, b, later);
    const queued = marker(w, 'queued');
    assert.equal((await run(w, a.devices[0], ['send', b.name, queued], { env: { SOTTO_CRASH_AT: 'send-after-commit' } })).code, 70);
    const env = { LANG: 'C.UTF-8', LC_ALL: '', LC_CTYPE: '', NO_COLOR: '1' };
    const human = (await ok(w, a.devices[0], ['history', b.name], { env })).stdout;
    assert.match(human, new RegExp(`\\] you: ${first}  ✓✓ read$`, 'm'), human);
    assert.match(human, new RegExp(`\\] you: ${m}  ✓✓ read$`, 'm'), human);
    assert.match(human, new RegExp(`\\] you: ${later}  ✓$`, 'm'), human);
    assert.match(human, new RegExp(`\\] you: ${queued}  …$`, 'm'), human);
    assert.match(human, new RegExp(`\\] ${b.name}: PLAINMARK-open-[0-9a-f]+$`, 'm'), human);
    const status = Object.fromEntries((await history(w, a.devices[0], b)).map((x) => [x.text, x.status]));
    assert.deepEqual([status[m], status[later], status[queued]], ['read', 'sent', 'queued']);
    await sync(w, b.devices[0]);
    for (let i = 0; i < 50 && (await history(w, a.devices[0], b)).find((x) => x.text === later)?.status !== 'delivered'; i += 1) await sync(w, a.devices[0]);
    const after = Object.fromEntries((await history(w, a.devices[0], b)).map((x) => [x.text, x.status]));
    assert.deepEqual([after[later], after[queued]], ['delivered', 'sent'], 'the queued one went with the sync');
  });

  test('in the C locale the marks are words', async () => {
    const t = chatIn(w, a, b, 'LANG=C', 'ascii');
    ts.push(t);
    await t.waitScreen((x) => x.screen().includes('(connected)'), 'the chat to connect');
    const m = marker(w, 'ascii');
    t.text(m);
    t.keys('Enter');
    await t.waitScreen((x) => rowWith(x, `you: ${m}`) !== '', 'the sent line');
    assert.match(rowWith(t, `you: ${m}`), new RegExp(`\\] you: ${m}  \\[sent\\]$`), t.screen(true));
    await sync(w, b.devices[0]);
    await t.waitScreen((x) => x.screen(true).includes(`  [delivered]: ${m.slice(0, 30)}...`), 'the delivered line');
    assert.doesNotMatch(t.screen(true), /✓|…/);
    t.keys('C-d');
    await t.waitScreen((x) => x.pane().startsWith('1:'), 'sotto to exit');
    const human = (await ok(w, a.devices[0], ['history', b.name], { env: { LANG: 'C', LC_ALL: '', LC_CTYPE: '' } })).stdout;
    assert.match(human, new RegExp(`\\] you: ${m}  \\[delivered\\]$`, 'm'), human);
    assert.doesNotMatch(human, /✓|…/);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
