// Object selection in the canvas: the proposed selection's pixels (`Proposal`), the magic wand (similar colour
// connected to a click, computed here), combining a proposal with the mask, and its outline for the overlay.
// Pure functions on typed arrays, so Vitest checks them without a browser.

import type { Rect } from "./geometry";

/** The proposed selection: `alpha` (255 = selected) over `rect` (document coordinates). */
export interface ProposalPixels {
  rect: Rect;
  alpha: Uint8Array;
}

/** Holds the one proposal shown; the state carries only its bounds, area and a version. */
export class Proposal {
  current: ProposalPixels | null = null;
  /** The outline drawn over the picture, made once per proposal. */
  outline: HTMLCanvasElement | null = null;
}

/** The bounds of the set pixels of `alpha` (width x height), or null when none is set. */
export function alphaBounds(alpha: Uint8Array, width: number, height: number): Rect | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (alpha[row + x] < 128) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

export function countSet(alpha: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < alpha.length; i++) if (alpha[i] >= 128) n++;
  return n;
}

/**
 * Magic wand: the pixels connected to (x, y) (4-neighbours) whose colour differs from the clicked one by at
 * most `tolerance` in each of R, G and B. `rgba` is width x height; pixels with alpha 0 are never taken.
 */
export function magicWand(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, x: number, y: number, tolerance: number): Uint8Array {
  const out = new Uint8Array(width * height);
  if (x < 0 || y < 0 || x >= width || y >= height) return out;
  const start = y * width + x;
  const r = rgba[start * 4];
  const g = rgba[start * 4 + 1];
  const b = rgba[start * 4 + 2];
  const near = (i: number) =>
    rgba[i * 4 + 3] > 0 && Math.abs(rgba[i * 4] - r) <= tolerance && Math.abs(rgba[i * 4 + 1] - g) <= tolerance && Math.abs(rgba[i * 4 + 2] - b) <= tolerance;
  if (!near(start)) return out;
  const stack = new Int32Array(width * height);
  let top = 0;
  stack[top++] = start;
  out[start] = 255;
  const visit = (j: number) => {
    if (out[j] || !near(j)) return;
    out[j] = 255;
    stack[top++] = j;
  };
  while (top > 0) {
    const i = stack[--top];
    const px = i % width;
    if (px > 0) visit(i - 1);
    if (px < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i + width < out.length) visit(i + width);
  }
  return out;
}

/** `mask` with `selection` added (max) or, with `subtract`, taken away; both of one size. */
export function combine(mask: Uint8Array, selection: Uint8Array, subtract: boolean): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    const chosen = selection[i] >= 128;
    out[i] = subtract ? (chosen ? 0 : mask[i]) : chosen ? 255 : mask[i];
  }
  return out;
}

/**
 * The pixels on the selection's edge, `thickness` deep: set, with an unset pixel (or the rectangle's border)
 * within `thickness` along its row or column. Two running counts per line, so it costs the same at any depth.
 */
export function edgePixels(alpha: Uint8Array, width: number, height: number, thickness = 1): Uint8Array {
  const t = Math.max(1, Math.round(thickness));
  const inner = new Uint8Array(alpha.length); // set, and set for t px on both sides along the row
  const run = new Int32Array(Math.max(width, height) + 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) run[x + 1] = run[x] + (alpha[y * width + x] >= 128 ? 1 : 0);
    for (let x = t; x < width - t; x++) if (run[x + t + 1] - run[x - t] === 2 * t + 1) inner[y * width + x] = 1;
  }
  const edge = new Uint8Array(alpha.length);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) run[y + 1] = run[y] + inner[y * width + x];
    for (let y = 0; y < height; y++) {
      const i = y * width + x;
      if (alpha[i] < 128) continue;
      const deep = y >= t && y < height - t && run[y + t + 1] - run[y - t] === 2 * t + 1;
      if (!deep) edge[i] = 1;
    }
  }
  return edge;
}

/** The proposal as an image for the overlay: a light tint inside, its edge in a bright line. */
export function outlineImage(pixels: ProposalPixels, zoom: number): HTMLCanvasElement {
  const { width, height } = pixels.rect;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, width);
  canvas.height = Math.max(1, height);
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(canvas.width, canvas.height);
  const edge = edgePixels(pixels.alpha, width, height, 1.5 / Math.max(zoom, 1e-3)); // about 1.5 screen px
  const data = image.data;
  for (let i = 0, j = 0; i < pixels.alpha.length; i++, j += 4) {
    if (edge[i]) {
      data[j] = 255;
      data[j + 1] = 230;
      data[j + 2] = 40;
      data[j + 3] = 255;
    } else if (pixels.alpha[i] >= 128) {
      data[j] = 80;
      data[j + 1] = 200;
      data[j + 2] = 255;
      data[j + 3] = 70;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}
