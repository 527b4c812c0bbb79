/* The access token (leader only): kept in memory, refreshed through the HttpOnly cookie a minute
 * before it expires, and never refreshed twice at once (the server would see the second use of
 * a refresh token as theft and end the session). Only the server's refusal ends the session: a
 * refresh that fails for want of a network or a working server throws, and the stored session
 * stays (issue 20, item 3: the installed app opened offline). */
import { ApiError } from '../net/api';

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export class TokenKeeper {
  private token: string | null = null;
  private refreshing: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `onRefreshed` runs after a timed refresh (the socket re-authenticates). `fetchFn` calls the
   * global fetch by default, called as a plain function (a stored `fetch` loses its `this`).
   */
  constructor(
    private readonly onRefreshed: (token: string) => Promise<void> | void,
    private readonly fetchFn: Fetch = (input, init) => fetch(input, init),
  ) {}

  current(): string | null {
    return this.token;
  }

  /** A token from sign-in or a refresh; the next refresh is due a minute before it expires (30 s at least). */
  set(token: string, expiresIn: number): void {
    this.token = token;
    if (this.timer) clearTimeout(this.timer);
    const ms = Math.max(30, expiresIn - 60) * 1000;
    this.timer = setTimeout(() => {
      void this.refresh().then(
        async (t) => {
          if (t) await this.onRefreshed(t);
        },
        () => undefined, // unreachable: the socket refreshes when it reconnects (a 4401)
      );
    }, ms);
  }

  /** Signed out: forget the token and stop refreshing. */
  clear(): void {
    this.token = null;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One refresh at a time: concurrent callers share it. Null when the server refused it (a 4xx:
   *  401 for a token that is not valid, 400 when the cookie is gone, 403 for an Origin it does
   *  not allow): the session has ended. Throws and keeps the token when no answer came (no
   *  network: the fetch's TypeError) or one that says nothing about the session (5xx, 408, 429:
   *  an ApiError); it is tried again later. */
  refresh(): Promise<string | null> {
    this.refreshing ??= (async () => {
      try {
        const res = await this.fetchFn('/api/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
          cache: 'no-store',
        });
        if (!res.ok && unanswered(res.status)) throw new ApiError(res.status, 'unavailable', `refresh: ${res.status}`);
        if (!res.ok) {
          this.token = null;
          return null;
        }
        const { tokens } = (await res.json()) as { tokens: { accessToken: string; expiresIn: number } };
        this.set(tokens.accessToken, tokens.expiresIn);
        return tokens.accessToken;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

/** Statuses that say nothing about the session: the server (or a proxy before it) did not answer. */
function unanswered(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
