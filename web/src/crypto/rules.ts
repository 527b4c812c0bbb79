/* Decisions the crypto worker takes on what a decrypted item may do (issue 17), pure so that they
 * are unit-tested without libsotto (rules.test.ts). */
import type { LocalMessage, SecurityReason } from '../state/types';

/** SOTTO_E_KEY_MISMATCH and SOTTO_E_UNTRUSTED (sotto.h): sealed by other keys than those listed and accepted. */
const KEY_MISMATCH = -12;
const UNTRUSTED = -8;

/** The security reason for a libsotto error code when decrypting, or null (just undecryptable). */
export function refusalOf(code: number | undefined): SecurityReason | null {
  return code === KEY_MISMATCH || code === UNTRUSTED ? 'key-mismatch' : null;
}

/**
 * Which message an item edits, or null when it must be refused: an edit is applied only when the
 * payload says it is an edit (contentType 'edit') of the message the server names (for a
 * message:edited; a message:new names none, so the payload's own editOf), and that message is a
 * text from the same sender, user and device, not deleted. Rows from before issue 17 carry no
 * device: their edits are refused.
 */
export function editTarget(
  kind: 'new' | 'edited',
  payload: { contentType: string; editOf?: string },
  named: { id: string; senderId: string; senderDeviceId: string },
  target: LocalMessage | null,
): string | null {
  const targetId = kind === 'edited' ? named.id : payload.editOf;
  if (payload.contentType !== 'edit' || !targetId || payload.editOf !== targetId) return null;
  if (!target || target.id !== targetId || target.kind !== 'text' || target.deleted) return null;
  if (target.senderId !== named.senderId || !target.senderDeviceId || target.senderDeviceId !== named.senderDeviceId) return null;
  return targetId;
}

/**
 * What the worker does with a payload that decrypted (docs/protocol.md, "Deletes, edits and
 * retries"): 'edit' (an edit, or anything arriving as message:edited: editTarget decides),
 * 'message' (a text, or a sync copy of one's own), 'delete' (deleteVerdict decides), 'retry'
 * (the engine decides whether to answer), 'resend' (resendFills decides) or 'skip': any type
 * this client does not know. A skipped payload's ratchet step is
 * committed, its id remembered (a redelivery is a duplicate) and it is acknowledged; nothing
 * is shown, neither a message nor a failure.
 */
export type PayloadAction = 'edit' | 'message' | 'delete' | 'retry' | 'resend' | 'skip';
export function payloadAction(kind: 'new' | 'edited', contentType: string): PayloadAction {
  if (contentType === 'edit' || kind === 'edited') return 'edit';
  if (contentType === 'text' || contentType === 'sync') return 'message';
  if (contentType === 'delete' || contentType === 'retry' || contentType === 'resend') return contentType;
  return 'skip';
}

/**
 * Whether an authenticated delete payload may wipe its target (issue 17, item 4): 'apply' only
 * when the user who authenticated it is the target's sender (a text: same user, any of that
 * user's devices); for a row without an authenticated sender (undecryptable), only from the
 * device it was labelled with. 'ignore': no such message here (unknown, another conversation,
 * already deleted): nothing to do, nothing to say. 'refuse': someone else's message (or a
 * notice): not applied, and noted.
 */
export type DeleteVerdict = 'apply' | 'ignore' | 'refuse';
export function deleteVerdict(
  payload: { contentType: string; conversationId: string; editOf?: string },
  sender: { senderId: string; senderDeviceId: string },
  target: LocalMessage | null,
): DeleteVerdict {
  if (payload.contentType !== 'delete' || !payload.editOf) return 'refuse';
  if (!target || target.id !== payload.editOf || target.conversationId !== payload.conversationId || target.deleted) return 'ignore';
  if (target.kind === 'text') return target.senderId === sender.senderId ? 'apply' : 'refuse';
  if (target.kind === 'undecryptable') {
    const labelled = !!target.senderDeviceId && target.senderId === sender.senderId && target.senderDeviceId === sender.senderDeviceId;
    return labelled ? 'apply' : 'refuse';
  }
  return 'refuse';
}

/**
 * Whether a resend fills its target here (issue 17, item 6): only a row still undecryptable here
 * (not deleted), in the same conversation, that this device asked for (a retry it sent: kv
 * retry:<id>), and only from the device the row was labelled with (same user and device).
 * Anything else is ignored silently (the devices that read the original get the resend too).
 */
export function resendFills(
  payload: { contentType: string; conversationId: string; editOf?: string },
  sender: { senderId: string; senderDeviceId: string },
  target: LocalMessage | null,
  asked: boolean,
): boolean {
  if (payload.contentType !== 'resend' || !payload.editOf || !asked) return false;
  if (!target || target.id !== payload.editOf || target.conversationId !== payload.conversationId) return false;
  if (target.kind !== 'undecryptable' || target.deleted || !target.senderDeviceId) return false;
  return target.senderId === sender.senderId && target.senderDeviceId === sender.senderDeviceId;
}

/**
 * Whether this device answers a retry for `target` (the CLI's pr_resend_source): 'not-ours' when
 * it is not a message this user sent from this very device in that conversation (another
 * device's business: stay silent), 'deleted' when it is gone here, 'resent' when it was resent
 * once already; else 'ok'. The requester must be a participant (checked by the engine).
 */
export function resendSourceVerdict(
  target: LocalMessage | null,
  me: { userId: string; deviceId: string },
  request: { target: string; conversationId: string },
  resentAlready: boolean,
): 'ok' | 'not-ours' | 'deleted' | 'resent' {
  if (!target || target.id !== request.target || target.conversationId !== request.conversationId) return 'not-ours';
  if (target.senderId !== me.userId || target.senderDeviceId !== me.deviceId) return 'not-ours';
  if (target.kind !== 'text' || target.deleted || !target.body) return 'deleted';
  return resentAlready ? 'resent' : 'ok';
}
