/* Sent / delivered / seen marks for one's own messages. */
import type { MessageStatus } from '../state/types';
import { cn } from './cn';

export function StatusMark({ status, label }: { status: MessageStatus; label: string }) {
  const glyph = status === 'pending' ? '◷' : status === 'sent' ? '✓' : status === 'failed' ? '!' : '✓✓';
  return (
    <span
      role="img"
      aria-label={label}
      title={label}
      data-status={status}
      className={cn(
        'text-[11px] leading-none',
        status === 'read' ? 'text-sky-300 dark:text-sky-400' : status === 'failed' ? 'text-red-300' : 'opacity-80',
      )}
    >
      {glyph}
    </span>
  );
}
