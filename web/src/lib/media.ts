/* What a message shows of a file before anyone fetches it (docs/protocol.md, the pointer):
 * a name and type the core accepts, and for an image or a video its size in pixels, a video's
 * length, and a JPEG thumbnail of at most 4 KiB, shrunk until it fits. Made here, on the
 * sending client: the server never sees the file. */

export const FILE_MAX = 104857600; // 100 MiB (ATTACHMENT_FILE_MAX)
export const THUMB_MAX = 4096;
const THUMB_SIDE = 160;

export interface MediaInfo {
  width: number;
  height: number;
  durationMs: number;
  thumbnail?: Uint8Array;
}

/** A name the receiving side may save under: no control characters, no / or \, not . or ..,
 *  at most 255 UTF-8 bytes. */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let n = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  if (n === '' || n === '.' || n === '..') n = 'file';
  const enc = new TextEncoder();
  while (enc.encode(n).length > 255) n = Array.from(n).slice(0, -1).join('');
  return n;
}

/** A lower-case `type/subtype` (the core's rule), else application/octet-stream. */
export function safeType(type: string): string {
  const t = type.split(';')[0].trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t) && t.length <= 127 ? t : 'application/octet-stream';
}

export const isImage = (type: string) => /^image\/(jpeg|png|gif|webp|bmp|avif)$/.test(type);
export const isVideo = (type: string) => /^video\//.test(type);

export async function describeMedia(file: File, type: string): Promise<MediaInfo> {
  try {
    if (isImage(type)) {
      const bmp = await createImageBitmap(file);
      const info = { width: bmp.width, height: bmp.height, durationMs: 0, thumbnail: await thumbnailOf(bmp, bmp.width, bmp.height) };
      bmp.close();
      return info;
    }
    if (isVideo(type)) return await videoInfo(file);
  } catch {
    // Not decodable here: sent as a plain file.
  }
  return { width: 0, height: 0, durationMs: 0 };
}

/** A JPEG of the source: smaller and lower quality until it fits THUMB_MAX (none if it never does). */
async function thumbnailOf(src: CanvasImageSource, w: number, h: number): Promise<Uint8Array | undefined> {
  if (!w || !h) return undefined;
  let side = THUMB_SIDE;
  for (let quality = 0.7; side >= 16;) {
    const scale = Math.min(1, side / Math.max(w, h));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    canvas.getContext('2d')?.drawImage(src, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((ok) => canvas.toBlob(ok, 'image/jpeg', quality));
    if (blob && blob.size <= THUMB_MAX) return new Uint8Array(await blob.arrayBuffer());
    if (quality > 0.35) quality -= 0.15;
    else side = Math.floor(side * 0.75);
  }
  return undefined;
}

/** Size, length and a frame of a video the browser can play (a few seconds at most). */
async function videoInfo(file: File): Promise<MediaInfo> {
  const url = URL.createObjectURL(file);
  const v = document.createElement('video');
  v.muted = true;
  v.preload = 'auto';
  v.src = url;
  const once = (ev: string) =>
    new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('video timeout')), 5000);
      v.addEventListener(ev, () => (clearTimeout(t), ok()), { once: true });
      v.addEventListener('error', () => (clearTimeout(t), fail(new Error('video error'))), { once: true });
    });
  try {
    await once('loadeddata');
    const info: MediaInfo = {
      width: v.videoWidth,
      height: v.videoHeight,
      durationMs: Number.isFinite(v.duration) ? Math.round(v.duration * 1000) : 0,
    };
    v.currentTime = Math.min(0.1, (v.duration || 0) / 2);
    await once('seeked');
    info.thumbnail = await thumbnailOf(v, v.videoWidth, v.videoHeight);
    return info;
  } finally {
    v.removeAttribute('src');
    URL.revokeObjectURL(url);
  }
}
