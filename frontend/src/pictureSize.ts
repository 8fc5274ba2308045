// A picture's size from its first bytes (PNG, JPEG, WebP, GIF), read before decoding it: a picture over the
// server's pixel limit is refused, or offered scaled down, without first spending its pixels' memory.

export interface PictureSize {
  width: number;
  height: number;
}

/** The width and height a picture file declares, or null when the format is not one read here. */
export function pictureSize(bytes: Uint8Array): PictureSize | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  // PNG: the signature, then IHDR with width and height
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(1, 3) === "PNG" && ascii(12, 4) === "IHDR") {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length >= 10 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a")) {
    return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (bytes.length >= 30 && ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return webpSize(bytes, view, ascii(12, 4));
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes, view);
  return null;
}

function webpSize(bytes: Uint8Array, view: DataView, chunk: string): PictureSize | null {
  if (chunk === "VP8X") {
    const u24 = (at: number) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    return { width: u24(24) + 1, height: u24(27) + 1 };
  }
  if (chunk === "VP8 ") return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return null;
}

/** The frame header (SOF0..SOF15 but DHT, JPG and DAC) holds the size; markers before it are skipped. */
function jpegSize(bytes: Uint8Array, view: DataView): PictureSize | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = view.getUint16(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    at += 2 + length;
  }
  return null;
}

/** The largest size with the same proportions that has at most `maxPixels` pixels. */
export function fitPixels(size: PictureSize, maxPixels: number): PictureSize {
  if (size.width * size.height <= maxPixels) return { ...size };
  const factor = Math.sqrt(maxPixels / (size.width * size.height));
  let width = Math.max(1, Math.floor(size.width * factor));
  let height = Math.max(1, Math.floor(size.height * factor));
  while (width * height > maxPixels) {
    if (width >= height) width--;
    else height--;
  }
  return { width, height };
}
