/* The access token (leader only): kept in memory, refreshed through the HttpOnly cookie a minute
 * before it expires, and never refreshed twice at once (the server would see the second use of
 * a refresh token as theft and end the session). */

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
      void this.refresh().then(async (t) => {
        if (t) await this.onRefreshed(t);
      });
    }, ms);
  }

  /** Signed out: forget the token and stop refreshing. */
  clear(): void {
    this.token = null;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One refresh at a time: concurrent callers share it. Null when the session has ended; on a network error, null but the token is kept. */
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
        if (!res.ok) {
          this.token = null;
          return null;
        }
        const { tokens } = (await res.json()) as { tokens: { accessToken: string; expiresIn: number } };
        this.set(tokens.accessToken, tokens.expiresIn);
        return tokens.accessToken;
      } catch {
        return null; // network: keep what we have
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
