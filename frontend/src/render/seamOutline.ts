// The boundary highlight: where the last fill's edge runs, as a thin line with a dark halo so it shows on
// light and dark pictures alike. The path is built once per region (in picture pixels) and drawn at any
// pan and zoom by the interactive scene.

import type { Rect, Viewport } from "../geometry";
import { outlineSegments, type FilledRegion } from "../seams";

const HALO = "rgba(0, 0, 0, 0.85)";
const LINE = "#ffe14d";

export class SeamOutline {
  private cached: { region: FilledRegion; bounds: string; path: Path2D } | null = null;

  /** The region's boundary as a path in picture coordinates (cached while the region and bounds stay). */
  path(region: FilledRegion, bounds: Rect): Path2D {
    const key = `${bounds.x},${bounds.y},${bounds.width}x${bounds.height}`;
    if (this.cached?.region === region && this.cached.bounds === key) return this.cached.path;
    const path = new Path2D();
    const segments = outlineSegments(region, bounds);
    for (let i = 0; i < segments.length; i += 4) {
      path.moveTo(segments[i], segments[i + 1]);
      path.lineTo(segments[i + 2], segments[i + 3]);
    }
    this.cached = { region, bounds: key, path };
    return path;
  }

  /** Draw it on `ctx` (whose transform maps CSS pixels to the canvas, `dpr`) for the viewport `v`. */
  draw(ctx: CanvasRenderingContext2D, region: FilledRegion, bounds: Rect, v: Viewport, dpr: number): void {
    const path = this.path(region, bounds);
    ctx.save();
    ctx.setTransform(dpr * v.zoom, 0, 0, dpr * v.zoom, dpr * v.x, dpr * v.y);
    ctx.lineCap = "square";
    ctx.strokeStyle = HALO;
    ctx.lineWidth = 3.5 / v.zoom;
    ctx.stroke(path);
    ctx.strokeStyle = LINE;
    ctx.lineWidth = 1.5 / v.zoom;
    ctx.stroke(path);
    ctx.restore();
  }
}
