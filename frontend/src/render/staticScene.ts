// The static canvas: picture, staged result or live preview inside the box, and the mask overlay.
// Redraws either everything or one clipped screen rectangle (what a brush stroke touched).

import { inflate, intersect, pixelRect, rectToDoc, rectToScreen, type Rect } from "../geometry";
import type { Layers } from "../layers";
import type { AppState } from "../state";

export interface Overlays {
  /** The staged result on show, with its box. */
  staged: { image: CanvasImageSource; box: Rect } | null;
  /** The latest streamed preview of the job running for the box. */
  preview: { image: CanvasImageSource; box: Rect } | null;
}

const BACKGROUND = "#1d1f24";
const MASK_OPACITY = 0.5;

export class StaticScene {
  private ctx: CanvasRenderingContext2D;
  private checker: CanvasPattern | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly layers: Layers,
  ) {
    this.ctx = canvas.getContext("2d", { alpha: false })!;
  }

  private pattern(): CanvasPattern | null {
    if (this.checker) return this.checker;
    const tile = document.createElement("canvas");
    tile.width = tile.height = 16;
    const t = tile.getContext("2d")!;
    t.fillStyle = "#3a3d44";
    t.fillRect(0, 0, 16, 16);
    t.fillStyle = "#4a4e57";
    t.fillRect(0, 0, 8, 8);
    t.fillRect(8, 8, 8, 8);
    this.checker = this.ctx.createPattern(tile, "repeat");
    return this.checker;
  }

  /** Draw `source` (covering document rect `docRect`) limited to the screen rectangle `clip`. */
  private drawPart(state: AppState, source: CanvasImageSource, docRect: Rect, sourceSize: { width: number; height: number }, clip: Rect) {
    const v = state.viewport;
    // a pixel of margin: smoothing at the edge of a partial redraw samples the same neighbours as a full one
    const visible = intersect(inflate(pixelRect(rectToDoc(v, clip)), 1), docRect);
    if (!visible) return;
    const sx = ((visible.x - docRect.x) * sourceSize.width) / docRect.width;
    const sy = ((visible.y - docRect.y) * sourceSize.height) / docRect.height;
    const sw = (visible.width * sourceSize.width) / docRect.width;
    const sh = (visible.height * sourceSize.height) / docRect.height;
    const dst = rectToScreen(v, visible);
    this.ctx.drawImage(source, sx, sy, sw, sh, dst.x, dst.y, dst.width, dst.height);
  }

  /** `region`: document rectangle to redraw, or null for the whole screen. */
  draw(state: AppState, overlays: Overlays, region: Rect | null): void {
    const ctx = this.ctx;
    const dpr = this.canvas.width / Math.max(1, state.screen.width);
    const screen = { x: 0, y: 0, width: state.screen.width, height: state.screen.height };
    const clip = region ? intersect(inflate(pixelRect(rectToScreen(state.viewport, region)), 2), screen) : screen;
    if (!clip) return;
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.beginPath();
    ctx.rect(clip.x, clip.y, clip.width, clip.height);
    ctx.clip();
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(clip.x, clip.y, clip.width, clip.height);
    const picture = state.picture;
    if (picture) {
      const v = state.viewport;
      const bounds = picture.bounds;
      ctx.imageSmoothingEnabled = v.zoom < 2;
      ctx.imageSmoothingQuality = "low";
      const onScreen = rectToScreen(v, bounds);
      const pattern = this.pattern();
      if (pattern) {
        ctx.fillStyle = pattern;
        const under = intersect(onScreen, clip);
        if (under) ctx.fillRect(under.x, under.y, under.width, under.height);
      }
      this.drawPart(state, this.layers.picture, bounds, bounds, clip);
      const shown = overlays.staged ?? overlays.preview;
      if (shown) {
        const image = shown.image as { width: number; height: number };
        this.drawPart(state, shown.image, shown.box, { width: image.width, height: image.height }, clip);
      }
      if (state.mask.visible && !overlays.staged) {
        ctx.globalAlpha = MASK_OPACITY;
        this.drawPart(state, this.layers.mask, bounds, bounds, clip);
        ctx.globalAlpha = 1;
      }
    }
    ctx.restore();
  }
}
