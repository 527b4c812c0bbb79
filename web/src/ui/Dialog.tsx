/* A modal dialog on Radix (focus trap, Escape, the rest of the page hidden from assistive
 * technology, labelled by its title). The backdrop is a plain element, not Radix's Overlay:
 * Overlay wraps itself in react-remove-scroll, which injects a <style> element that sottod's
 * CSP (style-src falls back to 'self') refuses. Nothing behind the dialog scrolls anyway: the
 * app's panes scroll inside a full-height layout, and the backdrop takes the pointer. */
import * as D from '@radix-ui/react-dialog';
import type { ReactNode } from 'react';

export function Dialog({
  open,
  onOpenChange,
  title,
  children,
  closeLabel,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  title: string;
  children: ReactNode;
  closeLabel: string;
}) {
  return (
    <D.Root open={open} onOpenChange={onOpenChange}>
      <D.Portal>
        <div className="fixed inset-0 z-40 bg-slate-900/50" aria-hidden="true" />
        <D.Content
          aria-describedby={undefined}
          className="fixed left-1/2 top-[10%] z-50 flex max-h-[80vh] w-[calc(100%-2rem)] max-w-md -translate-x-1/2 flex-col rounded-xl bg-white p-4 shadow-xl dark:bg-slate-900 dark:text-slate-100"
        >
          <div className="mb-3 flex items-center justify-between">
            <D.Title className="text-lg font-semibold">{title}</D.Title>
            <D.Close
              className="rounded-md p-1 text-slate-500 hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-brand dark:hover:bg-slate-800"
              aria-label={closeLabel}
            >
              ✕
            </D.Close>
          </div>
          {children}
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}
