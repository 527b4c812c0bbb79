/* Queued / sending / sent / delivered / seen marks for one's own messages. */
import type { MessageStatus } from '../state/types';
import { cn } from './cn';

/** A clock drawn, not a character: an emoji clock depends on the fonts installed. */
function Clock() {
  return (
    <svg viewBox="0 0 16 16" className="inline h-3 w-3" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true">
      <circle cx="8" cy="8" r="6.2" />
      <path d="M8 4.5V8l2.5 1.6" strokeLinecap="round" />
    </svg>
  );
}

export function StatusMark({ status, label }: { status: MessageStatus; label: string }) {
  const glyph = status === 'queued' ? <Clock /> : status === 'pending' ? '◷' : status === 'sent' ? '✓' : status === 'failed' ? '!' : '✓✓';
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
