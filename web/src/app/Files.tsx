/* Files in the chat (engine/files.ts does the work): the composer's attach button and upload
 * bars, dropping and pasting onto the chat, and what a message with files shows: an image or a
 * video from its thumbnail (opened full size, or played in the page, once fetched), any other
 * file as a card with its name, size and a download button. Saved files keep their name. */
import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent } from 'react';
import { attach, cancel, fetchFile, pause, resume, resumeUploads } from '../engine/files';
import { useT } from '../i18n';
import { isImage, isVideo } from '../lib/media';
import type { FileRef } from '../state/types';
import { useUploads } from '../state/uploads';
import { Button } from '../ui/Button';
import { cn } from '../ui/cn';
import { Dialog } from '../ui/Dialog';

export function formatSize(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n,
    i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function sendAll(conversationId: string, files: FileList | File[] | null | undefined): boolean {
  const list = Array.from(files ?? []);
  for (const f of list) void attach(conversationId, f);
  return list.length > 0;
}

/** Dropping files onto the chat, or pasting an image into it, sends them. */
export function useFileDrop(conversationId: string, disabled: boolean) {
  const [over, setOver] = useState(false);
  return {
    over,
    handlers: {
      onDragOver: (e: DragEvent) => {
        if (disabled || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (e: DragEvent) => {
        setOver(false);
        if (disabled) return;
        if (sendAll(conversationId, e.dataTransfer.files)) e.preventDefault();
      },
      onPaste: (e: ClipboardEvent) => {
        if (!disabled && sendAll(conversationId, e.clipboardData.files)) e.preventDefault();
      },
    },
  };
}

export function AttachButton({ conversationId, disabled }: { conversationId: string; disabled: boolean }) {
  const t = useT();
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label={t('filesToSend')}
        onChange={(e) => {
          sendAll(conversationId, e.target.files);
          e.target.value = '';
        }}
      />
      <Button variant="ghost" size="icon" aria-label={t('attachFile')} disabled={disabled} onClick={() => input.current?.click()}>
        <svg
          aria-hidden="true"
          viewBox="0 0 24 24"
          className="h-5 w-5"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
        >
          <path d="M21 11.5l-8.5 8.5a5 5 0 01-7-7L14 4.5a3.5 3.5 0 015 5L10.5 18a2 2 0 01-3-3L15 7.5" />
        </svg>
      </Button>
    </>
  );
}

function Bar({ value, label }: { value: number; label: string }) {
  const pct = Math.round(value * 100);
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      className="h-1.5 w-full rounded bg-slate-200 dark:bg-slate-700"
    >
      <div className="h-1.5 rounded bg-brand" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** This conversation's files on their way out, each with its progress and controls. */
export function UploadTray({ conversationId }: { conversationId: string }) {
  const t = useT();
  const jobs = useUploads((s) => s.jobs).filter((j) => j.conversationId === conversationId);
  useEffect(() => void resumeUploads(), []);
  if (!jobs.length) return null;
  return (
    <ul aria-label={t('uploads')} className="mb-2 space-y-1">
      {jobs.map((j) => (
        <li key={j.localId} data-upload={j.state} className="rounded-lg bg-slate-100 px-3 py-1.5 text-xs dark:bg-slate-800">
          <div className="flex items-center gap-2">
            <span className="min-w-0 flex-1 truncate">
              {j.name} · {formatSize(j.size)}
            </span>
            <span className="text-slate-500">
              {j.state === 'preparing'
                ? t('uploadPreparing')
                : j.state === 'sending'
                  ? t('uploadSending')
                  : j.state === 'paused'
                    ? t('uploadPaused')
                    : ''}
            </span>
            {j.state === 'uploading' && (
              <button
                type="button"
                className="rounded px-1 hover:bg-slate-200 dark:hover:bg-slate-700"
                aria-label={t('pauseUpload')}
                onClick={() => pause(j.localId)}
              >
                ❚❚
              </button>
            )}
            {(j.state === 'paused' || (j.state === 'failed' && j.error === 'uploadFailed')) && (
              <button
                type="button"
                className="rounded px-1 hover:bg-slate-200 dark:hover:bg-slate-700"
                aria-label={t('resumeUpload')}
                onClick={() => resume(j.localId)}
              >
                ▶
              </button>
            )}
            {j.state !== 'sending' && (
              <button
                type="button"
                className="rounded px-1 hover:bg-slate-200 dark:hover:bg-slate-700"
                aria-label={t('cancelUpload')}
                onClick={() => void cancel(j.localId)}
              >
                ✕
              </button>
            )}
          </div>
          {j.error ? (
            <p role="alert" className="text-red-600">
              {t(j.error, { name: j.name })}
            </p>
          ) : (
            <Bar value={j.total ? j.sent / j.total : 0} label={t('uploading', { name: j.name })} />
          )}
        </li>
      ))}
    </ul>
  );
}

/* ------------------------------------------------------------------ in a message */

const urls = new Map<Blob, string>();
function urlOf(b: Blob): string {
  let u = urls.get(b);
  if (!u) {
    u = URL.createObjectURL(b);
    urls.set(b, u);
  }
  return u;
}

function thumbUrl(f: FileRef): string | undefined {
  if (!f.thumbnail) return undefined;
  const type = f.thumbnail.startsWith('iVBOR') ? 'image/png' : f.thumbnail.startsWith('UklGR') ? 'image/webp' : 'image/jpeg';
  return `data:${type};base64,${f.thumbnail}`;
}

/** Saved under the file's own name. */
function save(b: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = urlOf(b);
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

type Fetch = { state: 'idle' } | { state: 'loading'; got: number; total: number } | { state: 'done'; blob: Blob } | { state: 'failed' };

function useFetched(f: FileRef) {
  const [s, setS] = useState<Fetch>({ state: 'idle' });
  const start = () => {
    if (s.state === 'loading' || s.state === 'done') return;
    setS({ state: 'loading', got: 0, total: 0 });
    fetchFile(f, (got, total) => setS({ state: 'loading', got, total })).then(
      (blob) => setS({ state: 'done', blob }),
      () => setS({ state: 'failed' }),
    );
  };
  return [s, start] as const;
}

function Unavailable() {
  const t = useT();
  return (
    <p role="alert" data-file-error="true" className="text-xs text-red-600 dark:text-red-400">
      {t('fileUnavailable')}
    </p>
  );
}

function Progress({ s }: { s: Fetch }) {
  const t = useT();
  return s.state === 'loading' ? <Bar value={s.total ? s.got / s.total : 0} label={t('downloading')} /> : null;
}

/** The box a thumbnail takes in the conversation, in its own proportions. */
function boxOf(f: FileRef): { width: number; height: number } {
  const w = Math.min(240, f.width || 240);
  const h = f.width && f.height ? Math.round((w * f.height) / f.width) : 160;
  return { width: w, height: Math.min(h, 320) };
}

function ImageFile({ f }: { f: FileRef }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [s, start] = useFetched(f);
  const thumb = thumbUrl(f);
  const box = boxOf(f);
  return (
    <div data-file={f.name}>
      <button
        type="button"
        aria-label={t('openImage', { name: f.name })}
        className="block max-w-full overflow-hidden rounded-lg bg-slate-200 dark:bg-slate-700"
        style={{ width: box.width, height: box.height }}
        onClick={() => {
          setOpen(true);
          start();
        }}
      >
        {thumb && <img src={thumb} alt={f.name} data-thumbnail="true" className="h-full w-full object-cover" />}
      </button>
      <Dialog open={open} onOpenChange={setOpen} title={f.name} closeLabel={t('close')}>
        <div className="flex min-h-0 flex-col items-center gap-2 overflow-auto">
          <Progress s={s} />
          {s.state === 'failed' && <Unavailable />}
          {s.state === 'done' && (
            <>
              <img src={urlOf(s.blob)} alt={f.name} data-full="true" className="max-h-[60vh] max-w-full object-contain" />
              <Button size="sm" variant="secondary" onClick={() => save(s.blob, f.name)}>
                {t('saveFile')}
              </Button>
            </>
          )}
        </div>
      </Dialog>
    </div>
  );
}

function VideoFile({ f }: { f: FileRef }) {
  const t = useT();
  const [s, start] = useFetched(f);
  const thumb = thumbUrl(f);
  const box = boxOf(f);
  if (s.state === 'done') {
    return (
      <div data-file={f.name} className="space-y-1">
        <video src={urlOf(s.blob)} controls autoPlay playsInline className="max-w-full rounded-lg" style={{ width: box.width }} />
        <Button size="sm" variant="secondary" onClick={() => save(s.blob, f.name)}>
          {t('saveFile')}
        </Button>
      </div>
    );
  }
  return (
    <div data-file={f.name} className="space-y-1">
      <button
        type="button"
        aria-label={t('playVideo', { name: f.name })}
        className="relative block max-w-full overflow-hidden rounded-lg bg-slate-800"
        style={{ width: box.width, height: box.height }}
        onClick={start}
      >
        {thumb && <img src={thumb} alt={f.name} data-thumbnail="true" className="h-full w-full object-cover" />}
        <span aria-hidden="true" className="absolute inset-0 flex items-center justify-center text-3xl text-white">
          ▶
        </span>
      </button>
      <Progress s={s} />
      {s.state === 'failed' && <Unavailable />}
    </div>
  );
}

function FileCard({ f, mine }: { f: FileRef; mine: boolean }) {
  const t = useT();
  const [s, start] = useFetched(f);
  const [asked, setAsked] = useState(false);
  useEffect(() => {
    // Saved once it is here, when the user asked for it (not again on a re-render).
    if (asked && s.state === 'done') {
      save(s.blob, f.name);
      setAsked(false);
    }
  }, [asked, s, f.name]);
  return (
    <div
      data-file={f.name}
      className={cn('w-60 max-w-full space-y-1 rounded-lg p-2', mine ? 'bg-white/15' : 'bg-slate-100 dark:bg-slate-700')}
    >
      <div className="flex items-center gap-2">
        <span aria-hidden="true" className="text-xl">
          📄
        </span>
        <div className="min-w-0 flex-1">
          <p className="truncate font-medium">{f.name}</p>
          <p className="text-xs opacity-75">{formatSize(f.size)}</p>
        </div>
        <Button
          size="sm"
          variant="secondary"
          aria-label={t('downloadFile', { name: f.name })}
          disabled={s.state === 'loading'}
          onClick={() => {
            setAsked(true);
            start();
          }}
        >
          ↓
        </Button>
      </div>
      <Progress s={s} />
      {s.state === 'failed' && <Unavailable />}
    </div>
  );
}

/** What a message shows of its files. */
export function MessageFiles({ files, mine }: { files: FileRef[]; mine: boolean }) {
  return (
    <div className="mb-1 space-y-1">
      {files.map((f) =>
        isImage(f.type) ? (
          <ImageFile key={f.id} f={f} />
        ) : isVideo(f.type) ? (
          <VideoFile key={f.id} f={f} />
        ) : (
          <FileCard key={f.id} f={f} mine={mine} />
        ),
      )}
    </div>
  );
}
