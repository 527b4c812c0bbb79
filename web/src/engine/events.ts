/* What the leader tells every tab (itself included) and how a tab applies it to its stores. The
 * leader applies an event directly and then emits it over the BroadcastChannel; followers apply
 * what they hear. */
import type { SocketState } from '../net/socket';
import type { ServerEvents } from '../net/types';
import { useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useTrust } from '../state/trust';
import { useSignIns, type SignInAlert } from '../state/signins';
import type { ContactTrust, LocalMessage, MessageStatus } from '../state/types';

export interface TabEvents {
  /** A message saved or changed in local history. */
  msg: LocalMessage;
  /** A pending message got its server id. */
  confirm: { localId: string; message: LocalMessage };
  status: { conversationId: string; ids: string[]; status: MessageStatus };
  read: { conversationId: string };
  presence: ServerEvents['presence'];
  online: { userId: string; online: boolean; lastSeen: string | null };
  typing: { conversationId: string; userId: string; on: boolean };
  socket: SocketState;
  /** The conversation list changed on the server: reload it. */
  conversations: null;
  trust: ContactTrust;
  /** A sign-in on this account this device had not seen (signins.ts). */
  signin: SignInAlert;
  /** This user deleted their account: their conversations show it at once. */
  userDeleted: { userId: string };
}
export type TabEventName = keyof TabEvents;

export interface ApplyHooks {
  /** The conversation this tab shows while it is visible, or null: its messages are read. */
  visibleConversation(): string | null;
  loadConversations(): Promise<void>;
}

/** Applies one event to this tab's stores. Unknown names are ignored (a newer tab's event). */
export function applyEvent(name: string, data: unknown, hooks: ApplyHooks): void {
  const me = useSession.getState().me?.id ?? '';
  switch (name as TabEventName) {
    case 'msg': {
      const m = data as TabEvents['msg'];
      useMessages.getState().upsert(m);
      useConversations.getState().message(m, me, hooks.visibleConversation());
      if (!useConversations.getState().list.some((c) => c.id === m.conversationId)) void hooks.loadConversations();
      break;
    }
    case 'confirm': {
      const { localId, message } = data as TabEvents['confirm'];
      useMessages.getState().confirm(localId, message);
      useConversations.getState().message(message, me, hooks.visibleConversation());
      break;
    }
    case 'status': {
      const { conversationId, ids, status } = data as TabEvents['status'];
      useMessages.getState().status(conversationId, ids, status);
      break;
    }
    case 'read':
      useConversations.getState().markRead((data as TabEvents['read']).conversationId);
      break;
    case 'presence':
      usePresence.getState().snapshot((data as TabEvents['presence']).users);
      break;
    case 'online': {
      const d = data as TabEvents['online'];
      usePresence.getState().online(d.userId, d.online, d.lastSeen);
      break;
    }
    case 'typing': {
      const d = data as TabEvents['typing'];
      if (d.on) usePresence.getState().typingStart(d.conversationId, d.userId);
      else usePresence.getState().typingStop(d.conversationId, d.userId);
      break;
    }
    case 'socket':
      useSession.getState().set({ socket: data as TabEvents['socket'] });
      break;
    case 'conversations':
      void hooks.loadConversations();
      break;
    case 'trust':
      useTrust.getState().put(data as TabEvents['trust']);
      break;
    case 'signin':
      useSignIns.getState().add(data as TabEvents['signin']);
      break;
    case 'userDeleted':
      useConversations.getState().peerGone((data as TabEvents['userDeleted']).userId);
      void hooks.loadConversations();
      break;
  }
}
