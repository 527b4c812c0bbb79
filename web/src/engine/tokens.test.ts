import { afterEach, describe, expect, test, vi } from 'vitest';
import { TokenKeeper, type Fetch } from './tokens';

afterEach(() => vi.useRealTimers());

const ok = (accessToken: string, expiresIn = 900) =>
  new Response(JSON.stringify({ tokens: { accessToken, expiresIn } }), { status: 200, headers: { 'Content-Type': 'application/json' } });

describe('the access token', () => {
  test('concurrent refreshes share one request (a second would look like refresh-token theft)', async () => {
    let answer: (r: Response) => void = () => undefined;
    const fetchFn = vi.fn<Fetch>(() => new Promise((r) => (answer = r)));
    const t = new TokenKeeper(() => undefined, fetchFn);
    const a = t.refresh();
    const b = t.refresh();
    answer(ok('tok-1'));
    expect(await Promise.all([a, b])).toEqual(['tok-1', 'tok-1']);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    expect(fetchFn.mock.calls[0]?.[0]).toBe('/api/auth/refresh');
    expect(fetchFn.mock.calls[0]?.[1]).toMatchObject({ method: 'POST', credentials: 'same-origin' });
    expect(t.current()).toBe('tok-1');
    fetchFn.mockResolvedValueOnce(ok('tok-2'));
    expect(await t.refresh()).toBe('tok-2'); // the next one is a new request
    t.clear();
  });

  test('a refused refresh ends the token; a network failure or an unavailable server throws and keeps it', async () => {
    const fetchFn = vi.fn<Fetch>();
    const t = new TokenKeeper(() => undefined, fetchFn);
    t.set('tok-0', 900);
    fetchFn.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await expect(t.refresh()).rejects.toBeInstanceOf(TypeError);
    expect(t.current()).toBe('tok-0');
    fetchFn.mockResolvedValueOnce(new Response('{}', { status: 503 }));
    await expect(t.refresh()).rejects.toMatchObject({ status: 503 });
    expect(t.current()).toBe('tok-0');
    fetchFn.mockResolvedValueOnce(new Response('{}', { status: 401 }));
    expect(await t.refresh()).toBeNull();
    expect(t.current()).toBeNull();
    t.set('tok-1', 900);
    fetchFn.mockResolvedValueOnce(new Response('{}', { status: 400 })); // the cookie is gone
    expect(await t.refresh()).toBeNull();
    expect(t.current()).toBeNull();
    t.clear();
  });

  test('refreshes by itself a minute before expiry (30 s at the least) and hands on the new token', async () => {
    vi.useFakeTimers();
    const onRefreshed = vi.fn();
    const fetchFn = vi.fn<Fetch>(async () => ok('tok-new'));
    const t = new TokenKeeper(onRefreshed, fetchFn);
    t.set('tok-old', 900);
    await vi.advanceTimersByTimeAsync(839_000);
    expect(fetchFn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    expect(onRefreshed).toHaveBeenCalledWith('tok-new');
    t.set('short', 10);
    fetchFn.mockClear();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(fetchFn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    t.clear();
  });

  test('clearing stops the timed refresh', async () => {
    vi.useFakeTimers();
    const fetchFn = vi.fn<Fetch>(async () => ok('x'));
    const t = new TokenKeeper(() => undefined, fetchFn);
    t.set('tok', 100);
    t.clear();
    await vi.advanceTimersByTimeAsync(200_000);
    expect(fetchFn).not.toHaveBeenCalled();
    expect(t.current()).toBeNull();
  });
});
