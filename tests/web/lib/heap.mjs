// The JavaScript memory a page and its workers hold (CDP Runtime.getHeapUsage: the heap plus
// the ArrayBuffers' backing stores, where file bytes live), sampled while something runs, so
// a test can name the peak. Workers are reached through a second CDP session that attaches
// to the page's targets itself (Playwright's own session keeps its attachments to itself).
export async function heapSampler(page, everyMs = 100) {
  const s = await page.context().newCDPSession(page);
  const targets = [];
  const waits = new Map();
  let next = 1;
  s.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'worker') targets.push(e.sessionId); });
  s.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    waits.get(m.id)?.(m.result);
    waits.delete(m.id);
  });
  await s.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const inTarget = (sessionId, method) => {
    const id = next++;
    const got = new Promise((resolve) => waits.set(id, resolve));
    return s.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).then(() => got);
  };
  const bytes = (u) => (u ? u.usedSize + (u.backingStorageSize ?? 0) : 0);
  const sample = async () => {
    const pageUse = bytes(await s.send('Runtime.getHeapUsage'));
    let workers = 0;
    for (const t of targets) workers += bytes(await inTarget(t, 'Runtime.getHeapUsage').catch(() => null));
    return { page: pageUse, workers };
  };
  const peak = { page: 0, workers: 0, total: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const u = await sample().catch(() => null);
      if (u) {
        peak.page = Math.max(peak.page, u.page);
        peak.workers = Math.max(peak.workers, u.workers);
        peak.total = Math.max(peak.total, u.page + u.workers);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  const base = await sample();
  return {
    base,
    /** Stops sampling: the peaks seen, bytes. */
    async stop() {
      running = false;
      await loop;
      await s.detach().catch(() => {});
      return peak;
    },
  };
}
