/* REST client for the wire contract. The access token lives only in memory (TokenSource); a
 * 401 with an expired token triggers one refresh through the HttpOnly cookie and one retry. */
import type {
  ApiErrorBody,
  Bundle,
  CallRecord,
  ClaimedDeviceKeys,
  Conversation,
  Device,
  Me,
  AuthRules,
  Message,
  MfaSetup,
  PreKey,
  Privacy,
  Session,
  Tokens,
  TurnCredentials,
  User,
  UserKeys,
  WireEnvelope,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface TokenSource {
  /** The current access token, or null when signed out. */
  get(): Promise<string | null>;
  /** A fresh token after a 401 (one refresh across callers), or null when the session ended. */
  refresh(): Promise<string | null>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Options {
  auth?: boolean;
  body?: unknown;
  /** A raw body (a picture) instead of JSON, sent with its own type. */
  blob?: Blob;
}

export const WEB_DEVICE = { platform: 'web' as const };

/** A readable default name for this browser's device ("Chrome on Android", "Firefox on
 *  Windows"); the person can rename it in Settings. The order matters: Edge and Opera also say
 *  Chrome, and Chrome also says Safari. */
export function deviceName(ua: string = typeof navigator !== 'undefined' ? navigator.userAgent : ''): string {
  const browsers: [RegExp, string][] = [
    [/Firefox\/|FxiOS\//, 'Firefox'],
    [/Edg(e|A|iOS)?\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/SamsungBrowser\//, 'Samsung Internet'],
    [/Chromium\//, 'Chromium'],
    [/Chrome\/|CriOS\//, 'Chrome'],
    [/Safari\//, 'Safari'],
  ];
  const systems: [RegExp, string][] = [
    [/Android/, 'Android'],
    [/iPhone|iPad|iPod/, 'iOS'],
    [/CrOS/, 'ChromeOS'],
    [/Mac OS|Macintosh/, 'macOS'],
    [/Windows/, 'Windows'],
    [/Linux|X11/, 'Linux'],
  ];
  const browser = browsers.find(([re]) => re.test(ua))?.[1] ?? 'Browser';
  const os = systems.find(([re]) => re.test(ua))?.[1];
  return os ? `${browser} on ${os}` : browser;
}

/** The 401s that prove the owner (a wrong password or code) are answers, not an ended session:
 *  refreshing and asking again would only spend a second attempt (docs/api/accounts.md). */
const PROOF_REFUSALS = new Set(['invalid_credentials', 'mfa_required', 'invalid_mfa_code']);
async function endedSession(res: Response): Promise<boolean> {
  try {
    const body = (await res.clone().json()) as ApiErrorBody;
    return !PROOF_REFUSALS.has(body.error.code);
  } catch {
    return true;
  }
}

export function createApi(tokens: TokenSource, base = '') {
  async function raw(method: Method, path: string, opts: Options, token: string | null): Promise<Response> {
    const headers: Record<string, string> = {};
    if (opts.blob) headers['Content-Type'] = opts.blob.type;
    else if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(base + path, {
      method,
      headers,
      body: opts.blob ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  }

  async function call<T>(method: Method, path: string, opts: Options = {}): Promise<T> {
    const auth = opts.auth ?? true;
    let token = auth ? await tokens.get() : null;
    if (auth && !token) token = await tokens.refresh();
    if (auth && !token) throw new ApiError(401, 'unauthenticated', 'signed out');
    let res = await raw(method, path, opts, token);
    if (auth && res.status === 401 && (await endedSession(res))) {
      token = await tokens.refresh();
      if (!token) throw new ApiError(401, 'unauthenticated', 'signed out');
      res = await raw(method, path, opts, token);
    }
    if (!res.ok) {
      let body: ApiErrorBody | null = null;
      try {
        body = (await res.json()) as ApiErrorBody;
      } catch {
        /* not JSON */
      }
      const ra = Number(res.headers.get('Retry-After'));
      throw new ApiError(
        res.status,
        body?.error.code ?? 'http_error',
        body?.error.message ?? res.statusText,
        body?.error.details,
        Number.isFinite(ra) ? ra : undefined,
      );
    }
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  const q = (params: Record<string, string | number | undefined>) =>
    Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');

  return {
    rules: () => call<AuthRules>('GET', '/api/auth/rules', { auth: false }),
    register: (b: { email: string; username: string; password: string; displayName?: string; language?: string; keys: Bundle }) =>
      call<Session>('POST', '/api/auth/register', { auth: false, body: { ...b, device: { name: deviceName(), ...WEB_DEVICE } } }),
    login: (b: {
      email: string;
      password: string;
      mfaCode?: string;
      device: { id?: string; proof?: string; proofTime?: number };
      keys?: Bundle;
    }) =>
      call<Session>('POST', '/api/auth/login', { auth: false, body: { ...b, device: { name: deviceName(), ...WEB_DEVICE, ...b.device } } }),
    refresh: () => call<{ tokens: Tokens }>('POST', '/api/auth/refresh', { auth: false, body: {} }),
    logout: () => call<{ success: boolean }>('POST', '/api/auth/logout'),
    verifyEmail: (token: string) => call<unknown>('POST', '/api/auth/verify-email', { auth: false, body: { token } }),
    forgotPassword: (email: string) => call<unknown>('POST', '/api/auth/forgot-password', { auth: false, body: { email } }),
    resetPassword: (token: string, newPassword: string) =>
      call<unknown>('POST', '/api/auth/reset-password', { auth: false, body: { token, newPassword } }),
    mfaEnable: (password: string) => call<MfaSetup>('POST', '/api/auth/mfa/enable', { body: { password } }),
    mfaVerify: (code: string) => call<unknown>('POST', '/api/auth/mfa/verify', { body: { code } }),
    mfaDisable: (password: string, code: string) => call<unknown>('POST', '/api/auth/mfa/disable', { body: { password, code } }),
    mfaBackupCodes: (password: string, code: string) =>
      call<{ backupCodes: string[] }>('POST', '/api/auth/mfa/backup-codes', { body: { password, code } }),
    changePassword: (b: { currentPassword: string; newPassword: string; mfaCode?: string }) =>
      call<unknown>('POST', '/api/auth/change-password', { body: b }),
    resendVerification: () => call<unknown>('POST', '/api/auth/verify-email/resend', { body: {} }),
    logoutAll: () => call<unknown>('POST', '/api/auth/logout-all'),
    deleteAccount: (b: { password: string; mfaCode?: string }) => call<unknown>('DELETE', '/api/users/me', { body: b }),

    me: () => call<Me>('GET', '/api/users/me'),
    updateMe: (b: { displayName?: string; bio?: string; language?: string; privacy?: Partial<Privacy> }) =>
      call<Me>('PATCH', '/api/users/me', { body: b }),
    setAvatar: (image: Blob) => call<{ avatarUrl: string }>('PUT', '/api/users/me/avatar', { blob: image }),
    removeAvatar: () => call<{ avatarUrl: null }>('DELETE', '/api/users/me/avatar'),
    user: (id: string) => call<User>('GET', `/api/users/${encodeURIComponent(id)}`),
    searchUsers: (query: string, limit = 20) =>
      call<{ users: User[]; total: number }>('GET', `/api/users/search?${q({ q: query, limit })}`),
    devices: () => call<Device[]>('GET', '/api/users/me/devices'),
    renameDevice: (id: string, name: string) => call<Device>('PATCH', `/api/users/devices/${encodeURIComponent(id)}`, { body: { name } }),
    revokeDevice: (id: string) => call<unknown>('DELETE', `/api/users/devices/${encodeURIComponent(id)}`),
    blocked: () => call<User[]>('GET', '/api/users/blocked'),
    block: (userId: string) => call<unknown>('POST', `/api/users/block/${encodeURIComponent(userId)}`),
    unblock: (userId: string) => call<unknown>('DELETE', `/api/users/block/${encodeURIComponent(userId)}`),

    userKeys: (userId: string) => call<UserKeys>('GET', `/api/keys/users/${encodeURIComponent(userId)}`),
    claim: (userId: string, deviceIds: string[]) =>
      call<{ userId: string; devices: ClaimedDeviceKeys[] }>('POST', '/api/keys/claim', { body: { userId, deviceIds } }),
    putDeviceKeys: (b: Bundle) => call<unknown>('PUT', '/api/keys/device', { body: b }),
    uploadOneTimeKeys: (keys: PreKey[]) => call<unknown>('POST', '/api/keys/one-time-keys', { body: { keys } }),
    oneTimeKeyCount: () => call<{ count: number }>('GET', '/api/keys/one-time-keys/count'),
    putSignedPreKey: (k: { keyId: number; publicKey: string; signature: string }) =>
      call<unknown>('PUT', '/api/keys/signed-pre-key', { body: k }),

    conversations: () =>
      call<{ conversations: Conversation[]; total: number }>('GET', `/api/conversations?${q({ limit: 100, offset: 0 })}`),
    createConversation: (participantId: string) => call<Conversation>('POST', '/api/conversations', { body: { participantId } }),
    conversation: (id: string) => call<Conversation>('GET', `/api/conversations/${encodeURIComponent(id)}`),
    acceptConversation: (id: string) => call<Conversation>('POST', `/api/conversations/${encodeURIComponent(id)}/accept`),
    leaveConversation: (id: string) => call<{ success: boolean }>('DELETE', `/api/conversations/${encodeURIComponent(id)}`),
    messages: (id: string, before?: string, limit = 100) =>
      call<{ messages: Message[]; hasMore: boolean }>(
        'GET',
        `/api/conversations/${encodeURIComponent(id)}/messages?${q({ limit, before })}`,
      ),
    sendMessage: (conversationId: string, b: { clientMessageId: string; envelopes: WireEnvelope[]; attachmentIds?: string[] }) =>
      call<Message>('POST', `/api/conversations/${encodeURIComponent(conversationId)}/messages`, { body: b }),
    editMessage: (id: string, envelopes: WireEnvelope[]) =>
      call<Message>('PATCH', `/api/messages/${encodeURIComponent(id)}`, { body: { envelopes } }),
    deleteMessage: (id: string) => call<{ success: boolean }>('DELETE', `/api/messages/${encodeURIComponent(id)}`),
    readMessage: (id: string) => call<unknown>('POST', `/api/messages/${encodeURIComponent(id)}/read`),

    turnCredentials: () => call<TurnCredentials>('GET', '/api/calls/turn-credentials'),
    calls: (conversationId: string, limit = 50) =>
      call<{ calls: CallRecord[]; hasMore: boolean }>(
        'GET',
        `/api/conversations/${encodeURIComponent(conversationId)}/calls?${q({ limit })}`,
      ),
  };
}
export type Api = ReturnType<typeof createApi>;
