// Seams around fills: which pixels a fill filled (the region whose edge may show as a seam), kept packed
// with each job and each accepted result, and the outline of that region for the boundary highlight.
// Pure functions on arrays: services read the layers, the render layer draws the outline.

import type { Rect } from "./geometry";
import { pack, unpack } from "./packbits";

/** Mask values above this select a pixel (the server's `MASK_THRESHOLD`). */
export const MASK_THRESHOLD = 127;

/** The pixels a fill filled, or a stroke painted over a seam (document coordinates). */
export interface FilledRegion {
  /** The smallest rectangle holding the region. */
  rect: Rect;
  /** One byte per pixel of `rect`, 255 = in the region, PackBits-packed. */
  packed: Uint8Array;
  /** A stroke painted over a seam (the seam runs along its middle), not a filled region (its edge). */
  painted?: boolean;
}

/** The settings a seam repair sends (the `seams` job's fields). */
export interface SeamRepairSettings {
  engine: string;
  band: number;
  passes: number;
  target: number;
}

/**
 * Every pixel within Euclidean distance `radius` of a selected one (255), as the server's `grow` (a dilation
 * by the disc of integer offsets with dx² + dy² <= radius²). Exact: squared distances from Felzenszwalb and
 * Huttenlocher's two-pass transform, compared in integers.
 */
export function growDisc(selected: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return selected.map((v) => (v ? 255 : 0));
  const far = (width + height) ** 2 + 1;
  // pass 1: squared distance to the nearest selected pixel in the same column
  const column = new Float64Array(width * height);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height; y++) {
      if (selected[y * width + x]) last = y;
      column[y * width + x] = last === -Infinity ? far : (y - last) ** 2;
    }
    last = Infinity;
    for (let y = height - 1; y >= 0; y--) {
      if (selected[y * width + x]) last = y;
      if (last !== Infinity) column[y * width + x] = Math.min(column[y * width + x], (last - y) ** 2);
    }
  }
  // pass 2: along each row, the lower envelope of the parabolas (x - q)² + column[q]
  const out = new Uint8Array(width * height);
  const limit = radius * radius;
  const f = new Float64Array(width);
  const v = new Int32Array(width);
  const z = new Float64Array(width + 1);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = column[row + x];
    let k = 0;
    v[0] = 0;
    z[0] = -Infinity;
    z[1] = Infinity;
    for (let q = 1; q < width; q++) {
      let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
      while (s <= z[k]) {
        k--;
        s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
    }
    k = 0;
    for (let x = 0; x < width; x++) {
      while (z[k + 1] < x) k++;
      const d = (x - v[k]) ** 2 + f[v[k]];
      if (d <= limit) out[row + x] = 255;
    }
  }
  return out;
}

/**
 * What a fill fills, as the server computes it (`pipeline.plan`): the mask (above the threshold) joined by
 * every pixel without content (alpha 0), grown by `grow`, inside the fill's box.
 *
 * `area`: the rectangle read (the box, grown by `grow` where the picture goes on past it, since empty
 * pixels just outside the box grow into it); `mask`: the mask's alpha over `area` (0 outside the box);
 * `alpha`: the picture's alpha over `area` (RGBA; 0 where there is no picture); `box`: the fill's box.
 */
export function filledRegion(area: Rect, mask: Uint8Array, rgba: Uint8ClampedArray, box: Rect, grow: number): FilledRegion | null {
  const { width, height } = area;
  const selected = new Uint8Array(width * height);
  for (let i = 0; i < selected.length; i++) selected[i] = mask[i] > MASK_THRESHOLD || rgba[i * 4 + 3] === 0 ? 255 : 0;
  const grown = growDisc(selected, width, height, grow);
  const inBox = new Uint8Array(box.width * box.height);
  const dx = box.x - area.x;
  const dy = box.y - area.y;
  for (let y = 0; y < box.height; y++) {
    inBox.set(grown.subarray((y + dy) * width + dx, (y + dy) * width + dx + box.width), y * box.width);
  }
  return regionOf(inBox, box);
}

/** The selected pixels (255) of `pixels`, which cover `rect`, trimmed to their bounds and packed; null if none. */
export function regionOf(pixels: Uint8Array, rect: Rect, painted = false): FilledRegion | null {
  let x0 = rect.width;
  let y0 = rect.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      if (pixels[y * rect.width + x] > MASK_THRESHOLD) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const trimmed = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) trimmed[y * w + x] = pixels[(y + y0) * rect.width + x + x0] > MASK_THRESHOLD ? 255 : 0;
  }
  const region: FilledRegion = { rect: { x: rect.x + x0, y: rect.y + y0, width: w, height: h }, packed: pack(trimmed) };
  if (painted) region.painted = true;
  return region;
}

/** The region's pixels over its rectangle (255 = in it). */
export function regionPixels(region: FilledRegion): Uint8Array {
  return unpack(region.packed, region.rect.width * region.rect.height);
}

/** The region as a mask the size of `bounds` (the picture), 255 inside it: what a `seams` job is sent. */
export function regionMask(region: FilledRegion, bounds: Rect): Uint8Array {
  const out = new Uint8Array(bounds.width * bounds.height);
  const pixels = regionPixels(region);
  const { rect } = region;
  for (let y = 0; y < rect.height; y++) {
    const py = rect.y + y - bounds.y;
    if (py < 0 || py >= bounds.height) continue;
    for (let x = 0; x < rect.width; x++) {
      const px = rect.x + x - bounds.x;
      if (px >= 0 && px < bounds.width && pixels[y * rect.width + x]) out[py * bounds.width + px] = 255;
    }
  }
  return out;
}

/**
 * The region's boundary as line segments along pixel edges ([x0, y0, x1, y1, ...], document coordinates),
 * runs of edges joined: where a pixel in the region meets one outside it. The picture's own edge (`bounds`)
 * is no boundary: nothing lies beyond it to meet.
 */
export function outlineSegments(region: FilledRegion, bounds: Rect): number[] {
  const { rect } = region;
  const { width, height } = rect;
  const pixels = regionPixels(region);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && pixels[y * width + x] !== 0;
  const onPicture = (x: number, y: number) => {
    const px = rect.x + x;
    const py = rect.y + y;
    return px >= bounds.x && py >= bounds.y && px < bounds.x + bounds.width && py < bounds.y + bounds.height;
  };
  // an edge between a region pixel and its neighbour counts when the neighbour is outside and on the picture
  const edge = (x: number, y: number, nx: number, ny: number) => inside(x, y) !== inside(nx, ny) && onPicture(x, y) && onPicture(nx, ny);
  const out: number[] = [];
  // horizontal edges: between rows y-1 and y, for y in 0..height
  for (let y = 0; y <= height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const on = x < width && edge(x, y - 1, x, y);
      if (on && start < 0) start = x;
      if (!on && start >= 0) {
        out.push(rect.x + start, rect.y + y, rect.x + x, rect.y + y);
        start = -1;
      }
    }
  }
  // vertical edges: between columns x-1 and x
  for (let x = 0; x <= width; x++) {
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const on = y < height && edge(x - 1, y, x, y);
      if (on && start < 0) start = y;
      if (!on && start >= 0) {
        out.push(rect.x + x, rect.y + start, rect.x + x, rect.y + y);
        start = -1;
      }
    }
  }
  return out;
}

/** Engines a repair can use: the weight-free blend, the narrow-band fills, and models (at low strength). */
export function seamEngines(engines: { name: string; needs_weights?: boolean }[]): string[] {
  return ["poisson", ...engines.filter((e) => ["telea", "navier-stokes"].includes(e.name) || e.needs_weights).map((e) => e.name)];
}

/** A seam score as the staging bar shows it: one decimal, two where one would hide the change. */
export function seamText(before: number | null, after: number): string {
  if (before === null) return `seam ${after.toFixed(1)}`;
  const digits = before.toFixed(1) === after.toFixed(1) ? 2 : 1;
  return `seam ${before.toFixed(digits)} → ${after.toFixed(digits)}`;
}

/** The seam scores of a result, from its job's report (a fill's `seam`, with `seam_before_passes` after
 * a seam pass; a repair's `seam_before` and `seam`) or, for a result staged from the gallery, its recipe. */
export function seamScores(report: Record<string, unknown> | null | undefined, recipe: unknown): { before: number | null; after: number } | null {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  if (report && num(report.seam) !== null) {
    return { before: num(report.seam_before) ?? num(report.seam_before_passes), after: num(report.seam)! };
  }
  const r = (recipe && typeof recipe === "object" ? recipe : {}) as Record<string, unknown>;
  const score = (v: unknown) => num((v as { score?: unknown } | null | undefined)?.score);
  const after = score(r.seam);
  if (after === null) return null;
  return { before: score(r.seam_before) ?? score(r.seam_before_passes), after };
}
