// The interactive canvas, redrawn on every pointer move: bounding box and its handles, the brush
// outline under the pointer. Cheap by design: a few lines, never an image.

import { isOutpainting, rectToScreen } from "../geometry";
import type { FilledRegion } from "../seams";
import type { AppState } from "../state";
import { SeamOutline } from "./seamOutline";

const HANDLE = 7;

export class InteractiveScene {
  private ctx: CanvasRenderingContext2D;
  private outline = new SeamOutline();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** The region whose boundary the highlight shows (null: none, or the highlight is off). */
    private readonly seamRegion: (state: AppState) => FilledRegion | null = () => null,
  ) {
    this.ctx = canvas.getContext("2d")!;
  }

  draw(state: AppState): void {
    const ctx = this.ctx;
    const dpr = this.canvas.width / Math.max(1, state.screen.width);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!state.picture) return;
    const v = state.viewport;

    // where the last fill's boundary runs, under the box and brush
    const region = state.seamOutline ? this.seamRegion(state) : null;
    if (region) this.outline.draw(ctx, region, state.picture.bounds, v, dpr);

    // bounding box: where the next invoke works; dashed orange when it reaches past the picture
    const box = rectToScreen(v, state.bbox);
    const outpaint = isOutpainting(state.bbox, state.picture.bounds);
    ctx.lineWidth = state.tool === "bbox" ? 2 : 1.5;
    ctx.strokeStyle = "rgba(0,0,0,0.6)";
    ctx.setLineDash([]);
    ctx.strokeRect(box.x - 0.5, box.y - 0.5, box.width + 1, box.height + 1);
    ctx.strokeStyle = outpaint ? "#ffb347" : "#6cb6ff";
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(box.x, box.y, box.width, box.height);
    ctx.setLineDash([]);
    const label = `${state.bbox.width}×${state.bbox.height}${outpaint ? " · outpaint" : ""}`;
    ctx.font = "12px system-ui, sans-serif";
    const textWidth = ctx.measureText(label).width;
    ctx.fillStyle = "rgba(20,22,26,0.8)";
    ctx.fillRect(box.x, box.y - 20, textWidth + 10, 18);
    ctx.fillStyle = outpaint ? "#ffb347" : "#cfe6ff";
    ctx.fillText(label, box.x + 5, box.y - 7);
    if (state.tool === "bbox") {
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#1d1f24";
      for (const [hx, hy] of [
        [0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [0.5, 1], [0, 1], [0, 0.5],
      ]) {
        const x = box.x + hx * box.width - HANDLE / 2;
        const y = box.y + hy * box.height - HANDLE / 2;
        ctx.fillRect(x, y, HANDLE, HANDLE);
        ctx.strokeRect(x, y, HANDLE, HANDLE);
      }
    }

    // brush outline
    if ((state.tool === "brush" || state.tool === "eraser") && state.pointer) {
      const r = Math.max(1, (state.brush.size / 2) * v.zoom);
      ctx.beginPath();
      ctx.arc(state.pointer.x, state.pointer.y, r, 0, Math.PI * 2);
      ctx.strokeStyle = "rgba(0,0,0,0.7)";
      ctx.lineWidth = 3;
      ctx.stroke();
      ctx.strokeStyle = state.tool === "eraser" ? "#ffd166" : "#ffffff";
      ctx.lineWidth = 1.25;
      ctx.stroke();
      if (state.brush.hardness < 1) {
        ctx.beginPath();
        ctx.arc(state.pointer.x, state.pointer.y, r * state.brush.hardness, 0, Math.PI * 2);
        ctx.setLineDash([2, 3]);
        ctx.strokeStyle = "rgba(255,255,255,0.6)";
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
  }
}
