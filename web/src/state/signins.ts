/* Sign-ins on this account from a device this one had not seen: each stays on screen until
 * its person says "this was me" (or revokes it), in every tab (engine/signins.ts finds them). */
import { create } from 'zustand';
import type { Platform } from '../net/types';

export interface SignInAlert {
  deviceId: string;
  name: string;
  platform: Platform;
  createdAt: string;
  /** The address sottod saw; only the live event has it (a missed sign-in has none). */
  address?: string;
}

interface SignInsState {
  alerts: SignInAlert[];
  add(a: SignInAlert): void;
  dismiss(deviceId: string): void;
  reset(): void;
}

export const useSignIns = create<SignInsState>()((set) => ({
  alerts: [],
  add: (a) => set((s) => ({ alerts: [...s.alerts.filter((x) => x.deviceId !== a.deviceId), a] })),
  dismiss: (deviceId) => set((s) => ({ alerts: s.alerts.filter((x) => x.deviceId !== deviceId) })),
  reset: () => set({ alerts: [] }),
}));
