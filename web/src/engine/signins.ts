/* Sign-in alerts (leader): a login that created a device on this account is said on every
 * other device, live through `device:added`, and after a time away by comparing the account's
 * device list with the ids this device has seen (docs/api/events.md, "Account events"; the
 * CLI's acct_events.c does the same). The seen set is sealed in the worker's ledger like the
 * other local bookkeeping, so it survives a reload and leaves with a wipe.
 *
 * An id is marked seen when its alert is raised: a missed sign-in is shown once. The first
 * comparison on a device only learns the list (everything before it is not news). */
import type { ServerEvents } from '../net/types';
import type { SignInAlert } from '../state/signins';
import type { EngineContext } from './context';

const SEEN = 'signins:seen';

type Ctx = Pick<EngineContext, 'crypto' | 'api' | 'publish'>;

export class SignInWatch {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: Ctx) {}

  /** The live event: raised unless this id was already seen (a catch-up got there first). */
  added(d: ServerEvents['device:added']): Promise<void> {
    return this.serial(async () => {
      const seen = await this.seen();
      if (seen?.includes(d.deviceId)) return;
      // No list learned yet: this one is news anyway, and the first catch-up learns it.
      if (seen) await this.save([...seen, d.deviceId]);
      this.raise({ deviceId: d.deviceId, name: d.name, platform: d.platform, createdAt: d.createdAt, address: d.address });
    });
  }

  /** After connecting: the account's devices against the seen set; new ones are raised. */
  catchUp(): Promise<void> {
    return this.serial(async () => {
      const list = await this.ctx.api.devices();
      const seen = await this.seen();
      const fresh = seen ? list.filter((d) => !seen.includes(d.id)) : [];
      if (seen && !fresh.length) return;
      await this.save([...(seen ?? []), ...(seen ? fresh : list).map((d) => d.id)]);
      for (const d of fresh)
        if (!d.current && d.active) this.raise({ deviceId: d.id, name: d.name, platform: d.platform, createdAt: d.createdAt });
    });
  }

  private raise(a: SignInAlert): void {
    this.ctx.publish('signin', a);
  }

  private async seen(): Promise<string[] | null> {
    const rows = await this.ctx.crypto.call('ledgerList', { prefix: SEEN });
    const v = rows.find((r) => r.key === SEEN)?.value;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
  }

  private save(ids: string[]): Promise<void> {
    return this.ctx.crypto.call('ledgerWrite', { entries: [{ key: SEEN, value: [...new Set(ids)] }] });
  }

  /** One at a time: a live event and a catch-up must not both raise the same device. */
  private serial(f: () => Promise<void>): Promise<void> {
    const next = this.chain.then(f);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
