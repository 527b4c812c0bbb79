/* A polite live region that reads out a message arriving from someone else, once: screen-reader
 * users hear "New message from Bob: …" without the whole message list being live (a live list
 * would read every re-render and every status tick). */
import { useEffect, useState } from 'react';
import { translate } from '../i18n';
import { arrivals } from '../state/arrivals';
import { useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { useSession } from '../state/session';
import { useSettings } from '../state/settings';
import { nameOf } from './Sidebar';

const MAX_CHARS = 200; // a long message is read from its start; the chat holds the rest

export function Announcer() {
  const [text, setText] = useState('');
  useEffect(() => {
    const since = Date.now();
    return useMessages.subscribe((next, prev) => {
      const me = useSession.getState().me?.id ?? '';
      const m = arrivals(prev.byConv, next.byConv, me, since).pop();
      if (!m) return;
      const lang = useSettings.getState().language;
      const peer = useConversations.getState().list.find((c) => c.id === m.conversationId)?.peer;
      const body = m.body.trim() ? m.body.replace(/\s+/g, ' ').trim().slice(0, MAX_CHARS) : translate(lang, 'attachmentWord');
      setText(translate(lang, 'newMessageFrom', { name: peer ? nameOf(peer) : '…', text: body }));
    });
  }, []);
  return (
    <div role="status" aria-live="polite" aria-atomic="true" className="sr-only" data-announcer>
      {text}
    </div>
  );
}
