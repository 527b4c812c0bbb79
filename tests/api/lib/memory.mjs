// Reads a running process's memory (/proc/PID/maps and /proc/PID/mem) and says which of some
// byte strings it holds: the tests' "memory dump" of sottod, taken while it runs, without a
// debugger. Needs the right to trace the process (root, or the same user with Yama's
// ptrace_scope 0; CI runs as root). Only readable, writable, private or anonymous regions are
// read (heap, stacks, the allocator's arenas: where frames live), each at most MAX_REGION bytes
// (sanitizer shadow and reserved arenas are terabytes of untouched pages).
import { openSync, readSync, closeSync, readFileSync } from 'node:fs';

const MAX_REGION = 1 << 30;
const CHUNK = 1 << 20;

function regions(pid) {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [range, perms, , , , file = ''] = line.split(/\s+/);
    const [lo, hi] = range.split('-').map((h) => BigInt(`0x${h}`));
    return { lo, hi, perms, file };
  }).filter((r) => r.perms.startsWith('rw') && r.hi - r.lo <= BigInt(MAX_REGION) &&
    !r.file.startsWith('/dev/') && r.file !== '[vvar]');
}

/** The needles (strings or Buffers) found anywhere in the process's writable memory, and how
 *  many bytes were read (so a caller can check the read was not empty). */
export function memoryHolds(pid, needles) {
  const want = needles.map((n) => (Buffer.isBuffer(n) ? n : Buffer.from(n)));
  const longest = Math.max(...want.map((n) => n.length));
  const found = new Set();
  let read = 0;
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    for (const r of regions(pid)) {
      let carry = Buffer.alloc(0);
      for (let at = r.lo; at < r.hi; at += BigInt(CHUNK)) {
        const len = Number(r.hi - at < BigInt(CHUNK) ? r.hi - at : BigInt(CHUNK));
        const buf = Buffer.alloc(len);
        let n = 0;
        try {
          n = readSync(fd, buf, 0, len, at);
        } catch {
          carry = Buffer.alloc(0); // an unreadable page (guard, freed): skip it
          continue;
        }
        read += n;
        const hay = Buffer.concat([carry, buf.subarray(0, n)]);
        want.forEach((w, i) => { if (hay.includes(w)) found.add(i); });
        carry = hay.subarray(Math.max(0, hay.length - longest + 1));
      }
    }
  } finally {
    closeSync(fd);
  }
  return { found: want.filter((_, i) => found.has(i)).map((b) => b.toString()), read };
}
