/* A picture made small in the browser before it is uploaded as a profile picture: at most
 * PICTURE_SIDE pixels a side, drawn on a canvas, so only pixels leave (no EXIF, no GPS, no
 * comment) and less of them. The server checks and re-encodes it again whatever it gets. */
export const PICTURE_SIDE = 512;

function toBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/** The picture as WebP (PNG where the browser cannot write WebP); rejects for a file the
 *  browser cannot decode as a bitmap (not a picture, or SVG). */
export async function downscale(file: Blob, side = PICTURE_SIDE): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  try {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d canvas');
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const webp = await toBlob(canvas, 'image/webp', 0.9);
    if (webp?.type === 'image/webp') return webp;
    const png = await toBlob(canvas, 'image/png');
    if (!png) throw new Error('the canvas gave no picture');
    return png;
  } finally {
    bitmap.close();
  }
}
