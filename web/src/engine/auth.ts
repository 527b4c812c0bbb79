/* Signing in (leader): registering creates this browser's device keys first; logging in as the
 * account this device already belongs to proves the device with its key, and otherwise (another
 * account, or a revoked device) enrols a new device. Its key bundle is made once and reused if
 * the first try fails (a wrong password), so retrying does not generate keys again. */
import type { Profile } from '../crypto/protocol';
import { ApiError } from '../net/api';
import type { Bundle, Session } from '../net/types';
import type { EngineContext } from './context';
import { ONE_TIME_KEYS_AT_START } from './keys';

export interface RegisterForm {
  email: string;
  username: string;
  displayName: string;
  password: string;
  /** The language the account's mails are written in. */
  language?: 'en' | 'vi';
}
export interface LoginForm {
  email: string;
  password: string;
  mfaCode?: string;
}

/** What the wiring does with a new session: bind the profile, keep the token, enter. */
export type OnSignedIn = (profile: Profile, token: string, expiresIn: number) => Promise<void>;

export class Auth {
  private pendingBundleEmail: string | null = null;
  private pendingBundle: Bundle | null = null;

  constructor(
    private readonly ctx: Pick<EngineContext, 'crypto' | 'api'>,
    private readonly onSignedIn: OnSignedIn,
  ) {}

  async register(f: RegisterForm): Promise<void> {
    const { bundle } = await this.ctx.crypto.call('createDevice', { oneTimeKeys: ONE_TIME_KEYS_AT_START });
    const s = await this.ctx.api.register({
      email: f.email,
      username: f.username,
      password: f.password,
      displayName: f.displayName || undefined,
      language: f.language,
      keys: bundle,
    });
    await this.done(s, f.email);
  }

  async login(f: LoginForm): Promise<void> {
    const opened = await this.ctx.crypto.call('open', undefined);
    const same = opened.profile && opened.profile.email.toLowerCase() === f.email.toLowerCase();
    if (same && opened.profile) {
      const proof = await this.ctx.crypto.call('loginProof', { email: f.email });
      if (proof) {
        try {
          const s = await this.ctx.api.login({
            email: f.email,
            password: f.password,
            mfaCode: f.mfaCode,
            device: { id: opened.profile.deviceId, ...proof },
          });
          await this.done(s, opened.profile.email);
          return;
        } catch (e) {
          // Wrong password or MFA: say so. A revoked or unknown device: become a new one.
          if (!(e instanceof ApiError) || e.status === 401 || e.status === 429) throw e;
        }
      }
    }
    if (!this.pendingBundle || this.pendingBundleEmail !== f.email) {
      this.pendingBundle = (await this.ctx.crypto.call('createDevice', { oneTimeKeys: ONE_TIME_KEYS_AT_START })).bundle;
      this.pendingBundleEmail = f.email;
    }
    const s = await this.ctx.api.login({ email: f.email, password: f.password, mfaCode: f.mfaCode, device: {}, keys: this.pendingBundle });
    this.pendingBundle = null;
    await this.done(s, f.email);
  }

  private done(s: Session, email: string): Promise<void> {
    return this.onSignedIn(
      { userId: s.user.id, deviceId: s.device.id, email, username: s.user.username },
      s.tokens.accessToken,
      s.tokens.expiresIn,
    );
  }
}
