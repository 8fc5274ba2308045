// What a photo carries besides its pixels: EXIF and the ICC colour profile (read from JPEG and PNG files,
// written into PNG downloads), and the recipe chunks of a Retouch PNG (offered for recall when opened).

import { readText } from "./png";

export interface PictureMeta {
  /** EXIF as a TIFF stream (what PNG's eXIf chunk holds), orientation reset: the pixels are upright. */
  exif: Uint8Array<ArrayBuffer> | null;
  icc: Uint8Array<ArrayBuffer> | null;
  /** Text chunks of a PNG, e.g. `retouch` (the recipe as JSON) and `parameters` (AUTOMATIC1111's). */
  texts: Record<string, string>;
}

export const NO_META: PictureMeta = { exif: null, icc: null, texts: {} };

const PNG = [137, 80, 78, 71];

export async function readMeta(file: Blob): Promise<PictureMeta> {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (PNG.every((b, i) => bytes[i] === b)) return await pngMeta(bytes);
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpegMeta(bytes);
  } catch {
    // a file we cannot read metadata from still opens: it just carries none
  }
  return NO_META;
}

async function inflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function pngMeta(png: Uint8Array): Promise<PictureMeta> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let exif: Uint8Array<ArrayBuffer> | null = null;
  let icc: Uint8Array<ArrayBuffer> | null = null;
  for (let offset = 8; offset + 8 <= png.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const data = png.slice(offset + 8, offset + 8 + length);
    if (type === "eXIf") exif = uprightExif(data);
    if (type === "iCCP") {
      const zero = data.indexOf(0);
      icc = await inflate(data.slice(zero + 2));
    }
    if (type === "IDAT" || type === "IEND") break;
    offset += 12 + length;
  }
  return { exif, icc, texts: readText(png) };
}

function jpegMeta(jpeg: Uint8Array): PictureMeta {
  let exif: Uint8Array<ArrayBuffer> | null = null;
  const iccParts: Uint8Array[] = [];
  for (let offset = 2; offset + 4 <= jpeg.length; ) {
    if (jpeg[offset] !== 0xff) break;
    const marker = jpeg[offset + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan: no more metadata
    const length = (jpeg[offset + 2] << 8) | jpeg[offset + 3];
    const body = jpeg.subarray(offset + 4, offset + 2 + length);
    const head = String.fromCharCode(...body.subarray(0, 12));
    if (marker === 0xe1 && head.startsWith("Exif\0\0")) exif = uprightExif(body.slice(6));
    if (marker === 0xe2 && head === "ICC_PROFILE\0") iccParts[body[12] - 1] = body.subarray(14);
    offset += 2 + length;
  }
  let icc: Uint8Array<ArrayBuffer> | null = null;
  if (iccParts.length && iccParts.every(Boolean)) {
    icc = new Uint8Array(iccParts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of iccParts) {
      icc.set(part, at);
      at += part.length;
    }
  }
  return { exif, icc, texts: {} };
}

/** EXIF with its orientation tag set to 1: the canvas decodes pictures upright, so a viewer must not turn
 * them again. */
export function uprightExif(tiff: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const copy = tiff.slice();
  if (copy.length < 8) return copy;
  const view = new DataView(copy.buffer);
  const little = copy[0] === 0x49;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > copy.length) return copy;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > copy.length) break;
    if (view.getUint16(entry, little) === 0x0112) view.setUint16(entry + 8, 1, little);
  }
  return copy;
}
