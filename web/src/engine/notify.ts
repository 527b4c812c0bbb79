/* Notifications of arriving messages. They say who wrote, never a word of what: a notification
 * centre keeps what it shows, and some sync it to other machines. Shown through the service
 * worker where there is one (Chrome on Android has no page-side Notification constructor), so a
 * click reaches sw.js, which brings the app forward on that conversation. */

/** Whether the user is looking at this conversation now (then nothing is shown). */
export function watching(openConversation: string | null, conversationId: string): boolean {
  return (
    typeof document !== 'undefined' && document.visibilityState === 'visible' && document.hasFocus() && openConversation === conversationId
  );
}

export async function showIncoming(conversationId: string, body: string): Promise<void> {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const options: NotificationOptions = {
    body,
    tag: `sotto:${conversationId}`, // one per conversation: a burst replaces, it does not pile up
    icon: '/icons/icon-192.png',
    data: { conversationId },
  };
  const reg = await navigator.serviceWorker?.getRegistration().catch(() => undefined);
  if (reg) await reg.showNotification('Sotto', options);
  else new Notification('Sotto', options);
}

/** Asks for permission when the user turns notifications on; false when the browser refuses. */
export async function askPermission(): Promise<boolean> {
  if (typeof Notification === 'undefined') return false;
  if (Notification.permission === 'granted') return true;
  return (await Notification.requestPermission()) === 'granted';
}
