/* A QR code drawn as SVG elements by React (no HTML strings, so no Trusted Types sink). */
import qrcode from 'qrcode-generator';
import { useMemo } from 'react';

export function Qr({ text, label, size = 192 }: { text: string; label: string; size?: number }) {
  const cells = useMemo(() => {
    const q = qrcode(0, 'M');
    q.addData(text);
    q.make();
    const n = q.getModuleCount();
    const dark: [number, number][] = [];
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (q.isDark(r, c)) dark.push([c, r]);
    return { n, dark };
  }, [text]);
  const m = cells.n + 8;
  return (
    <svg
      role="img"
      aria-label={label}
      viewBox={`0 0 ${m} ${m}`}
      width={size}
      height={size}
      className="rounded-lg bg-white"
      shapeRendering="crispEdges"
    >
      <rect width={m} height={m} fill="#fff" />
      <path d={cells.dark.map(([x, y]) => `M${x + 4} ${y + 4}h1v1h-1z`).join('')} fill="#111" />
    </svg>
  );
}
