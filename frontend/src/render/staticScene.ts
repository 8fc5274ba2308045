// The static canvas: picture, paint layer, staged result or live preview inside the box, and the mask
// overlay (with the job's grow and feather previewed around it; stepping aside over a staged or
// just-accepted result). Redraws either everything or one clipped screen rectangle (a stroke's).

import { inflate, intersect, pixelRect, rectToDoc, rectToScreen, type Rect } from "../geometry";
import type { Layers } from "../layers";
import type { AppState } from "../state";

export interface Shown {
  image: CanvasImageSource;
  box: Rect;
  /** The part of `image` covering `box` (default: all of it). */
  source?: Rect;
}

export interface Overlays {
  /** The staged result on show, with its box. */
  staged: Shown | null;
  /** The latest streamed preview of the job running for the box. */
  preview: Shown | null;
}

const BACKGROUND = "#1d1f24";
const MASK_OPACITY = 0.5;

export class StaticScene {
  private ctx: CanvasRenderingContext2D;
  private checker: CanvasPattern | null = null;
  private scratch: [HTMLCanvasElement, CanvasRenderingContext2D][] = [];

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

  /** Draw `source` (covering document rect `docRect`) limited to the screen rectangle `clip`. `from`: the
   * part of the source that covers `docRect` (default: all of it). */
  private drawPart(state: AppState, source: CanvasImageSource, docRect: Rect, sourceSize: { width: number; height: number }, clip: Rect,
    ctx: CanvasRenderingContext2D = this.ctx, from: Rect = { x: 0, y: 0, ...sourceSize }) {
    const v = state.viewport;
    // a pixel of margin: smoothing at the edge of a partial redraw samples the same neighbours as a full one
    const visible = intersect(inflate(pixelRect(rectToDoc(v, clip)), 1), docRect);
    if (!visible) return;
    const sx = from.x + ((visible.x - docRect.x) * from.width) / docRect.width;
    const sy = from.y + ((visible.y - docRect.y) * from.height) / docRect.height;
    const sw = (visible.width * from.width) / docRect.width;
    const sh = (visible.height * from.height) / docRect.height;
    const dst = rectToScreen(v, visible);
    ctx.drawImage(source, sx, sy, sw, sh, dst.x, dst.y, dst.width, dst.height);
  }

  private scratchCanvas(index: number, width: number, height: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
    let pair = this.scratch[index];
    if (!pair) {
      const canvas = document.createElement("canvas");
      pair = [canvas, canvas.getContext("2d")!];
      this.scratch[index] = pair;
    }
    const [canvas, ctx] = pair;
    if (canvas.width < width || canvas.height < height) {
      canvas.width = Math.max(canvas.width, width);
      canvas.height = Math.max(canvas.height, height);
    } else {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, width, height);
    }
    return pair;
  }

  /**
   * The mask at half opacity; around it, fainter, what the job will really change: the mask grown by
   * `grow` and feathered by `feather` picture pixels (drawn at screen resolution, so it costs the same at
   * any picture size).
   */
  private drawMask(state: AppState, clip: Rect, bounds: Rect): void {
    const ctx = this.ctx;
    const zoom = state.viewport.zoom;
    // only while grow or feather is being set: the blur costs a full redraw's time at every pan and zoom
    const grow = state.maskPreview ? state.settings.grow * zoom : 0;
    const feather = state.maskPreview ? state.settings.feather * zoom : 0;
    if (grow >= 1 || feather >= 1) {
      const margin = Math.ceil(grow + feather) + 2;
      const area = inflate(clip, margin);
      const w = Math.ceil(area.width);
      const h = Math.ceil(area.height);
      const [plain, plainCtx] = this.scratchCanvas(0, w, h);
      plainCtx.setTransform(1, 0, 0, 1, -area.x, -area.y);
      this.drawPart(state, this.layers.mask, bounds, bounds, area, plainCtx);
      const [grown, grownCtx] = this.scratchCanvas(1, w, h);
      grownCtx.drawImage(plain, 0, 0);
      if (grow >= 1) {
        // a disc of offsets: the union of shifted copies is the mask dilated by `grow`
        const steps = Math.min(32, Math.max(8, Math.ceil(grow)));
        for (let i = 0; i < steps; i++) {
          const a = (i / steps) * Math.PI * 2;
          for (const r of [grow, grow / 2]) grownCtx.drawImage(plain, Math.cos(a) * r, Math.sin(a) * r);
        }
      }
      ctx.save();
      ctx.globalAlpha = 0.3;
      if (feather >= 1) ctx.filter = `blur(${(feather / 2).toFixed(1)}px)`;
      ctx.drawImage(grown, 0, 0, w, h, area.x, area.y, w, h);
      ctx.restore();
    }
    ctx.globalAlpha = MASK_OPACITY;
    this.drawPart(state, this.layers.mask, bounds, bounds, clip);
    ctx.globalAlpha = 1;
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
      if (state.pictureVisible) this.drawPart(state, this.layers.picture, bounds, bounds, clip);
      const paint = this.layers.paint;
      if (paint && state.paint.visible) this.drawPart(state, paint, bounds, bounds, clip);
      const stroke = this.layers.stroke;
      if (stroke && this.layers.painting) {
        ctx.globalAlpha = this.layers.strokeOpacity;
        this.drawPart(state, stroke, bounds, bounds, clip);
        ctx.globalAlpha = 1;
      }
      // before/after: the picture alone while `before` is held
      const shown = state.before ? null : (overlays.staged ?? overlays.preview);
      if (shown) {
        const image = shown.image as { width: number; height: number };
        const size = { width: image.width, height: image.height };
        this.drawPart(state, shown.image, shown.box, size, clip, ctx, shown.source ?? { x: 0, y: 0, ...size });
      }
      if (state.mask.visible) {
        // the overlay steps aside over a staged result, so it can be judged
        const aside = overlays.staged?.box;
        ctx.save();
        if (aside) {
          const hole = rectToScreen(state.viewport, aside);
          ctx.beginPath();
          ctx.rect(clip.x, clip.y, clip.width, clip.height);
          ctx.rect(hole.x, hole.y, hole.width, hole.height);
          ctx.clip("evenodd");
        }
        this.drawMask(state, clip, bounds);
        ctx.restore();
      }
    }
    ctx.restore();
  }
}
