/* How long an undecryptable message shows "waiting for this message" after its sender device
 * was asked to resend it (issue 17, item 6): then it reads "could not be decrypted" for good,
 * though a late resend still fills it while this device keeps its retry mark (30 days). */

export const AWAIT_RESEND_MS = 24 * 60 * 60 * 1000;

/** Whether the row is still waiting for a resend at `now`. */
export function awaitingResend(m: { kind: string; deleted?: boolean; awaiting?: number }, now: number): boolean {
  return m.kind === 'undecryptable' && !m.deleted && m.awaiting !== undefined && now - m.awaiting < AWAIT_RESEND_MS;
}
