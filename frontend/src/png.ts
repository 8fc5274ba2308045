// PNG: encode pixels exactly as they are, read the recipe the server writes into results, write the
// recipe into downloads.

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let table: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  start: number; // offset of the length field
  data: Uint8Array;
}

function chunks(png: Uint8Array): Chunk[] {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new Error("not a PNG file");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    out.push({ type, start: offset, data: png.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
    if (type === "IEND") break;
  }
  return out;
}

/** The recipe a Retouch PNG carries (its `retouch` chunk as JSON), or null. */
export function readRecipe(png: Uint8Array): Record<string, unknown> | null {
  try {
    const text = readText(png).retouch;
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    return null; // not a PNG, or not JSON: no recipe
  }
}

/** Uncompressed tEXt and iTXt entries by keyword. */
export function readText(png: Uint8Array): Record<string, string> {
  const texts: Record<string, string> = {};
  const utf8 = new TextDecoder();
  for (const chunk of chunks(png)) {
    if (chunk.type === "tEXt") {
      const zero = chunk.data.indexOf(0);
      texts[latin1(chunk.data.subarray(0, zero))] = latin1(chunk.data.subarray(zero + 1));
    } else if (chunk.type === "iTXt") {
      const d = chunk.data;
      const keyEnd = d.indexOf(0);
      const compressed = d[keyEnd + 1] === 1;
      if (compressed) continue;
      const langEnd = d.indexOf(0, keyEnd + 3);
      const translatedEnd = d.indexOf(0, langEnd + 1);
      texts[latin1(d.subarray(0, keyEnd))] = utf8.decode(d.subarray(translatedEnd + 1));
    }
  }
  return texts;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** One chunk: length, type, data, CRC of type and data. */
function makeChunk(type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * A PNG of 8-bit pixels, `channels` 1 (grey) or 4 (RGBA, straight alpha), byte for byte.
 *
 * Written here rather than by `canvas.toBlob`: the canvas keeps premultiplied alpha (so half-transparent
 * pixels would not round-trip), and Chromium encodes `toBlob` in idle time, which took seconds on a busy
 * page. Rows use the Sub filter; the browser's own zlib (CompressionStream) deflates them.
 */
export async function encodePng(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number,
  channels: 1 | 4): Promise<Uint8Array<ArrayBuffer>> {
  if (pixels.length !== width * height * channels) throw new Error("pixel count does not match the size");
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const out = y * (stride + 1);
    raw[out] = 1; // Sub: each byte minus the one a pixel to its left
    for (let i = 0; i < stride; i++) raw[out + 1 + i] = pixels[row + i] - (i >= channels ? pixels[row + i - channels] : 0);
  }
  const compressed = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bits per channel
  header[9] = channels === 4 ? 6 : 0; // RGBA or grey
  return concat([new Uint8Array(SIGNATURE), makeChunk("IHDR", header), makeChunk("IDAT", compressed),
    makeChunk("IEND", new Uint8Array(0))]);
}

const isLatin1 = (text: string) => [...text].every((c) => c.charCodeAt(0) <= 0xff);

/**
 * `png` with a text chunk `keyword` = `text` before its image data (replacing one of that name), where
 * readers that stop at the first IDAT (PIL's `Image.open(...).info` before loading, many PNG-info tools)
 * find it. `latin1`: written as tEXt when the text is Latin-1 (as AUTOMATIC1111 writes `parameters`),
 * else as uncompressed UTF-8 iTXt.
 */
export function withText(png: Uint8Array, keyword: string, text: string, latin1Text = false): Uint8Array<ArrayBuffer> {
  const all = chunks(png);
  const key = new TextEncoder().encode(keyword);
  let chunk: Uint8Array<ArrayBuffer>;
  if (latin1Text && isLatin1(text)) {
    const data = new Uint8Array(key.length + 1 + text.length);
    data.set(key, 0); // key \0 text, one byte a character
    for (let i = 0; i < text.length; i++) data[key.length + 1 + i] = text.charCodeAt(i);
    chunk = makeChunk("tEXt", data);
  } else {
    const body = new TextEncoder().encode(text);
    const data = new Uint8Array(key.length + 5 + body.length);
    data.set(key, 0);
    // key \0, compression flag 0, method 0, empty language \0, empty translated keyword \0
    data.set(body, key.length + 5);
    chunk = makeChunk("iTXt", data);
  }

  const parts: Uint8Array[] = [png.subarray(0, 8)];
  let placed = false;
  for (const c of all) {
    const whole = png.subarray(c.start, c.start + 12 + c.data.length);
    if ((c.type === "iTXt" || c.type === "tEXt") && latin1(c.data.subarray(0, c.data.indexOf(0))) === keyword) continue;
    if (!placed && (c.type === "IDAT" || c.type === "IEND")) {
      parts.push(chunk);
      placed = true;
    }
    parts.push(whole);
  }
  return concat(parts);
}

export interface PngExtras {
  exif?: Uint8Array | null;
  icc?: Uint8Array | null;
  /** Text entries written before the image data, replacing ones of the same keyword (`parameters` as
   * tEXt when it is Latin-1, the others as iTXt). */
  texts?: Record<string, string>;
}

async function deflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `png` with EXIF (eXIf) and the ICC profile (iCCP) after its header, and text chunks before its image data. */
export async function withExtras(png: Uint8Array<ArrayBuffer>, extras: PngExtras): Promise<Uint8Array<ArrayBuffer>> {
  let out = png;
  for (const [keyword, text] of Object.entries(extras.texts ?? {})) out = withText(out, keyword, text, keyword === "parameters");
  const early: Uint8Array[] = [];
  if (extras.icc?.length) {
    const name = new TextEncoder().encode("ICC Profile");
    const compressed = await deflate(new Uint8Array(extras.icc));
    const data = new Uint8Array(name.length + 2 + compressed.length);
    data.set(name, 0); // name, \0, compression method 0, zlib stream
    data.set(compressed, name.length + 2);
    early.push(makeChunk("iCCP", data));
  }
  if (extras.exif?.length) early.push(makeChunk("eXIf", new Uint8Array(extras.exif)));
  if (!early.length) return out;
  const all = chunks(out);
  const header = all[0]; // IHDR comes first
  const after = header.start + 12 + header.data.length;
  const kept = all
    .filter((c) => !(c.type === "iCCP" && extras.icc?.length) && !(c.type === "eXIf" && extras.exif?.length))
    .filter((c) => c.type !== "IHDR")
    .map((c) => out.subarray(c.start, c.start + 12 + c.data.length));
  return concat([out.subarray(0, after), ...early, ...kept]);
}

/** The AUTOMATIC1111 `parameters` text for a recipe (as the server writes it into results). */
export function a1111Parameters(recipe: Record<string, unknown>): string {
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v));
  const lines: string[] = [];
  if (recipe.prompt) lines.push(text(recipe.prompt));
  if (recipe.negative_prompt) lines.push(`Negative prompt: ${text(recipe.negative_prompt)}`);
  const fields: Record<string, unknown> = {
    Steps: recipe.steps,
    Sampler: recipe.scheduler || recipe.engine,
    "CFG scale": recipe.guidance,
    Seed: recipe.seed,
    Size: recipe.width !== undefined ? `${text(recipe.width)}x${text(recipe.height)}` : undefined,
    Model: recipe.engine,
    "Denoising strength": recipe.strength,
    "Mask blur": recipe.feather,
    Version: `Retouch ${text(recipe.version ?? "")}`.trim(),
  };
  lines.push(
    Object.entries(fields)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}: ${text(v)}`)
      .join(", "),
  );
  return lines.join("\n");
}
