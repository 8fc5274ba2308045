// Pan: idle -> panning -> idle. Used by the H tool, by holding Space, and by the middle button.

import type { Point, Viewport } from "../geometry";
import type { PointerInfo, Tool, ToolContext } from "./types";

type Phase = { kind: "idle" } | { kind: "panning"; start: Point; from: Viewport };

export class PanTool implements Tool {
  readonly name = "pan";
  private state: Phase = { kind: "idle" };

  constructor(private readonly ctx: ToolContext) {}

  get phase(): string {
    return this.state.kind;
  }

  cursor(): string {
    return this.state.kind === "panning" ? "grabbing" : "grab";
  }

  down(p: PointerInfo): void {
    this.state = { kind: "panning", start: p.screen, from: this.ctx.store.state.viewport };
  }

  move(p: PointerInfo): void {
    if (this.state.kind !== "panning") return;
    const { start, from } = this.state;
    this.ctx.store.apply({ viewport: { ...from, x: from.x + p.screen.x - start.x, y: from.y + p.screen.y - start.y } });
  }

  up(): void {
    this.state = { kind: "idle" };
  }

  cancel(): void {
    this.state = { kind: "idle" };
  }
}
