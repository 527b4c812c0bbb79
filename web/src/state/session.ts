/* Who is signed in on this tab, and how this tab relates to the others (leader: owns the
 * socket, the token refresh and the crypto state; follower: works through the leader). */
import { create } from 'zustand';
import type { Me, User } from '../net/types';
import type { SocketState } from '../net/socket';

export type AuthStatus = 'loading' | 'locked' | 'signedOut' | 'signedIn';
export type TabRole = 'leader' | 'follower' | 'none';

interface SessionState {
  status: AuthStatus;
  me: (User & Partial<Pick<Me, 'email' | 'emailVerified' | 'mfaEnabled' | 'language' | 'backupCodesLeft' | 'privacy'>>) | null;
  deviceId: string | null;
  role: TabRole;
  socket: SocketState;
  drained: boolean;
  notice: string | null;
  set(p: Partial<Omit<SessionState, 'set'>>): void;
}

export const useSession = create<SessionState>()((set) => ({
  status: 'loading',
  me: null,
  deviceId: null,
  role: 'none',
  socket: 'closed',
  drained: false,
  notice: null,
  set: (p) => set(p),
}));
