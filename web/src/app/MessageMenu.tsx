/* The touch way to a message's actions (issue 20, item 2): on a phone the hover buttons cannot be
 * seen, so holding a finger on a message for half a second (without moving it) opens a sheet
 * with Reply, Copy text and, for one's own messages, Edit and Delete, each at least 44 px high
 * (WCAG 2.5.5). Mouse and keyboard users keep the buttons beside the message. */
import { useEffect, useRef, type TouchEvent } from 'react';
import { useT } from '../i18n';
import type { LocalMessage } from '../state/types';
import { Dialog } from '../ui/Dialog';

export const LONG_PRESS_MS = 500;
/** A finger that moves farther than this is scrolling, not pressing. */
const SLOP_PX = 10;

export interface TouchHandlers {
  onTouchStart: (e: TouchEvent) => void;
  onTouchMove: (e: TouchEvent) => void;
  onTouchEnd: (e: TouchEvent) => void;
  onTouchCancel: () => void;
  onContextMenu: (e: { preventDefault(): void }) => void;
}

/** Handlers that call `onPress` after LONG_PRESS_MS of one still finger. */
export function useLongPress(onPress: () => void): TouchHandlers {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const start = useRef<{ x: number; y: number } | null>(null);
  const fired = useRef(false);
  const cancel = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  };
  useEffect(() => cancel, []);
  return {
    onTouchStart: (e) => {
      cancel();
      fired.current = false;
      if (e.touches.length !== 1) return;
      const t = e.touches[0];
      start.current = { x: t.clientX, y: t.clientY };
      timer.current = setTimeout(() => {
        timer.current = null;
        fired.current = true;
        onPress();
      }, LONG_PRESS_MS);
    },
    onTouchMove: (e) => {
      const t = e.touches[0];
      if (!start.current || !t) return;
      if (Math.hypot(t.clientX - start.current.x, t.clientY - start.current.y) > SLOP_PX) cancel();
    },
    onTouchEnd: (e) => {
      cancel();
      // The press opened the sheet: the lifted finger must not also click what is under it.
      if (fired.current && e.cancelable) e.preventDefault();
      fired.current = false;
    },
    onTouchCancel: cancel,
    // Android also says "context menu" for a long press: the sheet is that menu.
    onContextMenu: (e) => {
      if (start.current || fired.current) e.preventDefault(); // a finger is down: not a mouse
    },
  };
}

export function MessageSheet({
  m,
  mine,
  onClose,
  onReply,
  onEdit,
  onDelete,
}: {
  m: LocalMessage | null;
  mine: boolean;
  onClose: () => void;
  onReply: (m: LocalMessage) => void;
  onEdit: (m: LocalMessage) => void;
  onDelete: (m: LocalMessage) => void;
}) {
  const t = useT();
  const act = (f: (m: LocalMessage) => void) => () => {
    if (!m) return;
    onClose();
    f(m);
  };
  const copy = act((x) => void navigator.clipboard?.writeText(x.body).catch(() => undefined));
  return (
    <Dialog open={m !== null} onOpenChange={(o) => !o && onClose()} title={t('messageActions')} closeLabel={t('close')}>
      {m && (
        <>
          <p dir="auto" className="mb-3 line-clamp-3 rounded-lg bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800">
            {m.body}
          </p>
          <div className="flex flex-col gap-1" data-message-sheet="true">
            <SheetButton label={t('reply')} onClick={act(onReply)} />
            {m.body && <SheetButton label={t('copyText')} onClick={copy} />}
            {mine && <SheetButton label={t('edit')} onClick={act(onEdit)} />}
            {mine && <SheetButton label={t('delete')} onClick={act(onDelete)} danger />}
            <SheetButton label={t('cancel')} onClick={onClose} />
          </div>
        </>
      )}
    </Dialog>
  );
}

function SheetButton({ label, onClick, danger }: { label: string; onClick: () => void; danger?: boolean }) {
  return (
    <button
      type="button"
      onClick={onClick}
      className={
        'min-h-[48px] w-full rounded-lg px-4 text-left text-base hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-brand dark:hover:bg-slate-800 ' +
        (danger ? 'text-red-700 dark:text-red-400' : '')
      }
    >
      {label}
    </button>
  );
}
