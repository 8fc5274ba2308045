// The interactive canvas, redrawn on every pointer move: bounding box and its handles, the brush
// outline under the pointer. Cheap by design: a few lines, never an image.

import { isOutpainting, rectToScreen, toScreen, type Rect } from "../geometry";
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
    /** The proposed selection's outline image and where it lies (document coordinates), or null. */
    private readonly selection: () => { image: CanvasImageSource; rect: Rect } | null = () => null,
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

    this.drawSelection(state);

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

  /** The Select tool's proposal (its outline, tinted inside), its box, its clicks and its area. */
  private drawSelection(state: AppState): void {
    const ctx = this.ctx;
    const v = state.viewport;
    const select = state.select;
    const shown = select.proposal ? this.selection() : null;
    if (shown) {
      const r = rectToScreen(v, shown.rect);
      ctx.imageSmoothingEnabled = v.zoom < 1;
      ctx.drawImage(shown.image, r.x, r.y, r.width, r.height);
      ctx.imageSmoothingEnabled = true;
    }
    if (state.tool !== "select" && !select.proposal) return;
    const box = select.dragging ?? select.box;
    if (box) {
      const r = rectToScreen(v, box);
      ctx.strokeStyle = "rgba(0,0,0,0.6)";
      ctx.lineWidth = 3;
      ctx.strokeRect(r.x, r.y, r.width, r.height);
      ctx.strokeStyle = "#ffe628";
      ctx.lineWidth = 1.25;
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(r.x, r.y, r.width, r.height);
      ctx.setLineDash([]);
    }
    for (const click of select.clicks) {
      const p = toScreen(v, click);
      ctx.beginPath();
      ctx.arc(p.x, p.y, 5, 0, Math.PI * 2);
      ctx.fillStyle = click.positive ? "#3ddc84" : "#ff4d6d";
      ctx.fill();
      ctx.strokeStyle = "#101214";
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    const proposal = select.proposal;
    if (proposal || select.busy) {
      const r = rectToScreen(v, proposal?.bounds ?? box ?? { x: 0, y: 0, width: 0, height: 0 });
      const label = proposal
        ? `${proposal.area.toLocaleString("en")} px${proposal.score !== null ? ` · score ${proposal.score.toFixed(2)}` : ""} · Enter adds, Shift+Enter subtracts, Esc drops`
        : "selecting…";
      ctx.font = "12px system-ui, sans-serif";
      const width = ctx.measureText(label).width;
      const y = r.y + r.height + 6;
      ctx.fillStyle = "rgba(20,22,26,0.85)";
      ctx.fillRect(r.x, y, width + 10, 18);
      ctx.fillStyle = "#ffe628";
      ctx.fillText(label, r.x + 5, y + 13);
    }
  }
}
