import { afterEach, expect, test, vi } from 'vitest';
import { ApiError, createApi } from './api';

afterEach(() => vi.unstubAllGlobals());

function serve(...answers: { status: number; body: unknown }[]) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string) => {
      calls.push(url);
      const a = answers.shift() ?? { status: 500, body: {} };
      return Promise.resolve(new Response(JSON.stringify(a.body), { status: a.status, headers: { 'Content-Type': 'application/json' } }));
    }),
  );
  return calls;
}

test('a wrong password is an answer: no refresh, no second attempt', async () => {
  const refresh = vi.fn(() => Promise.resolve('new-token'));
  const api = createApi({ get: () => Promise.resolve('token'), refresh });
  const calls = serve({
    status: 401,
    body: { error: { code: 'invalid_credentials', message: 'no', details: { field: 'currentPassword' } } },
  });
  const e = await api.changePassword({ currentPassword: 'x', newPassword: 'a long new password' }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).details).toEqual({ field: 'currentPassword' });
  expect(refresh).not.toHaveBeenCalled();
  expect(calls).toHaveLength(1);
});

test('an expired token is refreshed once and the request asked again', async () => {
  const refresh = vi.fn(() => Promise.resolve('new-token'));
  const api = createApi({ get: () => Promise.resolve('token'), refresh });
  const calls = serve(
    { status: 401, body: { error: { code: 'unauthenticated', message: 'expired' } } },
    { status: 200, body: { success: true } },
  );
  await api.logoutAll();
  expect(refresh).toHaveBeenCalledTimes(1);
  expect(calls).toHaveLength(2);
});
