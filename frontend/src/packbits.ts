// PackBits run-length coding for mask regions kept by undo. Masks are mostly long runs of 0 or 255,
// so a stroke's "before" region shrinks to a few bytes per row; soft edges cost at most 1/128 extra.

export function pack(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 128) + 1);
  let o = 0;
  let i = 0;
  const n = data.length;
  while (i < n) {
    // a repeat of at least 3 bytes?
    let run = 1;
    while (i + run < n && run < 128 && data[i + run] === data[i]) run++;
    if (run >= 3) {
      out[o++] = 257 - run; // 129..254 => repeat 128..3 times
      out[o++] = data[i];
      i += run;
      continue;
    }
    // literals until the next repeat of 3 (or 128 of them)
    const start = i;
    let count = 0;
    while (i < n && count < 128) {
      if (i + 2 < n && data[i] === data[i + 1] && data[i] === data[i + 2]) break;
      i++;
      count++;
    }
    out[o++] = count - 1; // 0..127 => 1..128 literals
    out.set(data.subarray(start, start + count), o);
    o += count;
  }
  return out.slice(0, o);
}

export function unpack(packed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  let i = 0;
  while (i < packed.length && o < length) {
    const header = packed[i++];
    if (header < 128) {
      const count = header + 1;
      out.set(packed.subarray(i, i + count), o);
      i += count;
      o += count;
    } else {
      const count = 257 - header;
      out.fill(packed[i++], o, o + count);
      o += count;
    }
  }
  if (o !== length) throw new Error(`packbits: expected ${length} bytes, got ${o}`);
  return out;
}

/** RGBA as four run-length packed planes (R, G, B, A): an opaque photo keeps about 3 bytes a pixel (its alpha
 * plane packs to almost nothing), an empty or sparsely painted layer almost none. Pixels are split as 32-bit
 * words (one read each); `unpackPlanes` joins them the same way, so the round trip is exact on any byte order. */
export function packPlanes(rgba: Uint8ClampedArray): Uint8Array[] {
  const pixels = rgba.length >> 2;
  const words = new Uint32Array(rgba.buffer, rgba.byteOffset, pixels);
  const planes = [new Uint8Array(pixels), new Uint8Array(pixels), new Uint8Array(pixels), new Uint8Array(pixels)];
  const [p0, p1, p2, p3] = planes;
  for (let i = 0; i < pixels; i++) {
    const w = words[i];
    p0[i] = w;
    p1[i] = w >>> 8;
    p2[i] = w >>> 16;
    p3[i] = w >>> 24;
  }
  return planes.map((plane) => pack(plane));
}

export function unpackPlanes(planes: Uint8Array[], pixels: number): Uint8ClampedArray<ArrayBuffer> {
  const [p0, p1, p2, p3] = planes.map((packed) => unpack(packed, pixels));
  const words = new Uint32Array(pixels);
  for (let i = 0; i < pixels; i++) words[i] = (p0[i] | (p1[i] << 8) | (p2[i] << 16) | (p3[i] << 24)) >>> 0;
  return new Uint8ClampedArray(words.buffer);
}
