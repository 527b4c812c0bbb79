/* Backup codes shown once: listed, with copy and download (a plain text file). */
import { useState } from 'react';
import { Button } from './Button';

export function BackupCodes({
  codes,
  title,
  copyText,
  copiedText,
  downloadText,
  fileName,
}: {
  codes: string[];
  title: string;
  copyText: string;
  copiedText: string;
  downloadText: string;
  fileName: string;
}) {
  const [copied, setCopied] = useState(false);
  const text = codes.join('\n') + '\n';
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard here: the codes are still on screen and downloadable
    }
  }
  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  return (
    <div className="space-y-2">
      <p className="text-sm font-medium">{title}</p>
      <ul className="grid grid-cols-2 gap-1 font-mono text-sm" aria-label={title}>
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-2">
        <Button size="sm" variant="secondary" onClick={() => void copy()}>
          {copyText}
        </Button>
        <Button size="sm" variant="secondary" onClick={download}>
          {downloadText}
        </Button>
        {copied && (
          <span role="status" className="text-sm text-slate-500">
            {copiedText}
          </span>
        )}
      </div>
    </div>
  );
}
