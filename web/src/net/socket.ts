/* The WebSocket to /ws: authenticate first, request/ack by id, and reconnect by itself with
 * backoff (at once when the browser says it is back online). Knows nothing of crypto. */
import type { ClientRequestName, ClientRequests, ServerEventName, ServerEvents } from './types';

export type SocketState = 'connecting' | 'open' | 'closed';

export interface SocketHandlers {
  onEvent<K extends ServerEventName>(name: K, data: ServerEvents[K]): void;
  onState(state: SocketState): void;
  /** The device was revoked (4403) or the session cannot be refreshed: stop for good. */
  onEnded(reason: 'revoked' | 'unauthenticated'): void;
}

export class SocketError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SocketError';
  }
}

interface Frame {
  event: string;
  id?: string;
  data?: unknown;
}

export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
}

export class Socket {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private authenticated = false;
  state: SocketState = 'closed';

  constructor(
    private url: string,
    private token: { get(): Promise<string | null>; refresh(): Promise<string | null> },
    private h: SocketHandlers,
  ) {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.kick());
      window.addEventListener('offline', () => this.drop());
    }
  }

  start(): void {
    this.stopped = false;
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  /** Reconnect now (network back, token refreshed). */
  kick(): void {
    if (this.stopped) return;
    if (this.state === 'open') return;
    if (this.timer) clearTimeout(this.timer);
    this.attempt = 0;
    void this.open();
  }

  isOpen(): boolean {
    return this.state === 'open' && this.authenticated;
  }

  request<K extends ClientRequestName>(name: K, data: ClientRequests[K][0], timeoutMs = 15_000): Promise<ClientRequests[K][1]> {
    const ws = this.ws;
    if (!ws || !this.isOpen()) return Promise.reject(new SocketError('offline', 'not connected'));
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SocketError('timeout', `${name} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ event: name, id, data }));
    });
  }

  /** Re-authenticates the open socket with a fresh token (before the old one expires). */
  async reauthenticate(): Promise<void> {
    const t = await this.token.get();
    if (t && this.ws && this.state === 'open')
      this.ws.send(JSON.stringify({ event: 'authenticate', id: String(this.nextId++), data: { token: t } }));
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.setState('connecting');
    let token: string | null;
    try {
      token = (await this.token.get()) ?? (await this.token.refresh());
    } catch {
      // No network (or no server) to refresh with: the session stays; try again later.
      this.retryLater(false, false);
      return;
    }
    if (this.stopped) return;
    if (!token) {
      this.stopped = true;
      this.h.onEnded('unauthenticated');
      return;
    }
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.authenticated = false;
    const authId = String(this.nextId++);
    ws.onopen = () => ws.send(JSON.stringify({ event: 'authenticate', id: authId, data: { token } }));
    ws.onmessage = (ev: MessageEvent<string>) => {
      let f: Frame;
      try {
        f = JSON.parse(ev.data) as Frame;
      } catch {
        return;
      }
      if (f.event === 'ack' || f.event === 'error') {
        if (f.id === authId) return;
        const p = f.id ? this.pending.get(f.id) : undefined;
        if (!p || !f.id) return;
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        if (f.event === 'ack') p.resolve(f.data ?? {});
        else {
          const d = (f.data ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
          p.reject(new SocketError(d.code ?? 'error', d.message ?? 'error', d.details));
        }
        return;
      }
      if (f.event === 'authenticated') {
        this.authenticated = true;
        this.attempt = 0;
        this.setState('open');
      }
      this.h.onEvent(f.event as ServerEventName, f.data as never);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.authenticated = false;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SocketError('offline', 'connection closed'));
      }
      this.pending.clear();
      this.setState('closed');
      if (this.stopped) return;
      if (ev.code === 4403) {
        this.stopped = true;
        this.h.onEnded('revoked');
        return;
      }
      this.retryLater(ev.code === 4401, ev.code === 4401);
    };
  }

  /** Opens again after a back-off (at once for an expired token, refreshed first). Only the
   *  server's refusal of the refresh ends the session; failing to reach it is tried again. */
  private retryLater(expired: boolean, now: boolean): void {
    if (this.stopped) return;
    if (this.state !== 'closed') this.setState('closed');
    const again = async () => {
      if (expired) {
        let t: string | null;
        try {
          t = await this.token.refresh();
        } catch {
          this.retryLater(true, false);
          return;
        }
        if (this.stopped) return; // ended here meanwhile (signed out, account deleted)
        if (!t) {
          this.stopped = true;
          this.h.onEnded('unauthenticated');
          return;
        }
      }
      await this.open();
    };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void again(), now ? 0 : backoffMs(this.attempt++));
  }

  /** The network went away: the socket is down now. A close handshake cannot complete without
   *  the network, and its close event may come much later; until then nothing would say
   *  "offline" or queue what the user does. The real close event, when it comes, is ignored. */
  private drop(): void {
    const ws = this.ws;
    if (!ws) return;
    ws.close();
    ws.onclose?.(new CloseEvent('close', { code: 1006 }));
  }

  private setState(s: SocketState): void {
    this.state = s;
    this.h.onState(s);
  }
}
