// Pure geometry of the document: rectangles, the viewport transform, snapping. No DOM here.

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Screen = document * zoom + offset. The document is unbounded: any offset, any zoom in range. */
export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export const MIN_ZOOM = 1 / 64;
export const MAX_ZOOM = 64;

export function toScreen(v: Viewport, p: Point): Point {
  return { x: p.x * v.zoom + v.x, y: p.y * v.zoom + v.y };
}

export function toDoc(v: Viewport, p: Point): Point {
  return { x: (p.x - v.x) / v.zoom, y: (p.y - v.y) / v.zoom };
}

export function rectToScreen(v: Viewport, r: Rect): Rect {
  return { x: r.x * v.zoom + v.x, y: r.y * v.zoom + v.y, width: r.width * v.zoom, height: r.height * v.zoom };
}

export function rectToDoc(v: Viewport, r: Rect): Rect {
  return { x: (r.x - v.x) / v.zoom, y: (r.y - v.y) / v.zoom, width: r.width / v.zoom, height: r.height / v.zoom };
}

/** `r` scaled by (fx, fy) about the document's origin, on whole pixels (edges scaled, then rounded). */
export function scaleRect(r: Rect, fx: number, fy: number): Rect {
  const x = Math.round(r.x * fx);
  const y = Math.round(r.y * fy);
  return { x, y, width: Math.max(1, Math.round((r.x + r.width) * fx) - x), height: Math.max(1, Math.round((r.y + r.height) * fy) - y) };
}

export function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/** Zoom by `factor` keeping the document point under `anchor` (screen) where it is. */
export function zoomAt(v: Viewport, anchor: Point, factor: number): Viewport {
  const zoom = clamp(v.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  const doc = toDoc(v, anchor);
  return { zoom, x: anchor.x - doc.x * zoom, y: anchor.y - doc.y * zoom };
}

/** The viewport that shows `r` whole and centred in a screen of `width` x `height`, with a margin. */
export function fitRect(r: Rect, width: number, height: number, maxZoom = MAX_ZOOM, margin = 24): Viewport {
  const zoom = clamp(
    Math.min((width - 2 * margin) / Math.max(1, r.width), (height - 2 * margin) / Math.max(1, r.height)),
    MIN_ZOOM,
    maxZoom,
  );
  return { zoom, x: (width - r.width * zoom) / 2 - r.x * zoom, y: (height - r.height * zoom) / 2 - r.y * zoom };
}

/** The viewport at 100 % with `r`'s centre at the screen's centre. */
export function actualSize(r: Rect, width: number, height: number): Viewport {
  return { zoom: 1, x: Math.round(width / 2 - (r.x + r.width / 2)), y: Math.round(height / 2 - (r.y + r.height / 2)) };
}

export function intersect(a: Rect, b: Rect): Rect | null {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

export function union(a: Rect, b: Rect): Rect {
  const x0 = Math.min(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  const x1 = Math.max(a.x + a.width, b.x + b.width);
  const y1 = Math.max(a.y + a.height, b.y + b.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function contains(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** Whole pixels covering `r` (floor of the start, ceil of the end). */
export function pixelRect(r: Rect): Rect {
  const x = Math.floor(r.x);
  const y = Math.floor(r.y);
  return { x, y, width: Math.ceil(r.x + r.width) - x, height: Math.ceil(r.y + r.height) - y };
}

export function inflate(r: Rect, by: number): Rect {
  return { x: r.x - by, y: r.y - by, width: r.width + 2 * by, height: r.height + 2 * by };
}

export function snapCoord(value: number, grid: number): number {
  const g = Math.max(1, Math.round(grid));
  return Math.round(value / g) * g;
}

/** The default box for a picture: the picture itself, shrunk to the grid so it stays inside. */
export function defaultBox(picture: Rect, grid: number): Rect {
  const g = Math.max(1, Math.round(grid));
  const width = Math.max(g, Math.floor(picture.width / g) * g);
  const height = Math.max(g, Math.floor(picture.height / g) * g);
  return { x: picture.x, y: picture.y, width, height };
}

/** Does the box reach past the picture (so the empty part will be outpainted)? */
export function isOutpainting(box: Rect, picture: Rect): boolean {
  return !contains(picture, box);
}

export type Handle = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w" | "move";

/** Which handle of `box` (screen rect) is under the screen point, or "move" inside, or null. */
export function hitHandle(box: Rect, p: Point, tolerance = 8): Handle | null {
  const near = (a: number, b: number) => Math.abs(a - b) <= tolerance;
  const inX = p.x >= box.x - tolerance && p.x <= box.x + box.width + tolerance;
  const inY = p.y >= box.y - tolerance && p.y <= box.y + box.height + tolerance;
  if (!inX || !inY) return null;
  const w = near(p.x, box.x);
  const e = near(p.x, box.x + box.width);
  const n = near(p.y, box.y);
  const s = near(p.y, box.y + box.height);
  if (n && w) return "nw";
  if (n && e) return "ne";
  if (s && w) return "sw";
  if (s && e) return "se";
  if (n) return "n";
  if (s) return "s";
  if (w) return "w";
  if (e) return "e";
  return "move";
}

/** Points along a segment, `spacing` apart, excluding `a` (already stamped) and including `b`. */
export function stampsAlong(a: Point, b: Point, spacing: number, carry = 0): { points: Point[]; carry: number } {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy);
  const points: Point[] = [];
  let t = spacing - carry;
  while (t <= length) {
    points.push({ x: a.x + (dx * t) / length, y: a.y + (dy * t) / length });
    t += spacing;
  }
  return { points, carry: length - (t - spacing) };
}
