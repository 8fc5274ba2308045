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
