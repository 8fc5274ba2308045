// Drawing happens at most once per animation frame, however many events asked for it. Callers say
// what is stale: everything, a document rectangle (a brush stroke), or only the interactive overlay.

import type { Rect } from "../geometry";
import { union } from "../geometry";

export class FrameScheduler {
  private full = false;
  private region: Rect | null = null;
  private overlay = false;
  private pending = false;
  private listeners: ((frameStart: number) => void)[] = [];

  constructor(
    private readonly drawStatic: (region: Rect | null) => void,
    private readonly drawOverlay: () => void,
    private readonly request: (callback: FrameRequestCallback) => number = (cb) => requestAnimationFrame(cb),
  ) {}

  invalidateAll(): void {
    this.full = true;
    this.overlay = true;
    this.schedule();
  }

  /** A document rectangle whose pixels changed (e.g. under a brush stroke). */
  invalidateDoc(rect: Rect): void {
    this.region = this.region ? union(this.region, rect) : rect;
    this.schedule();
  }

  invalidateOverlay(): void {
    this.overlay = true;
    this.schedule();
  }

  /** Called after each drawn frame (the benchmark listens to this). */
  onFrame(listener: (frameStart: number) => void): void {
    this.listeners.push(listener);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    this.request((time) => this.frame(time));
  }

  private frame(time: number): void {
    this.pending = false;
    const full = this.full;
    const region = this.region;
    const overlay = this.overlay;
    this.full = false;
    this.region = null;
    this.overlay = false;
    if (full) this.drawStatic(null);
    else if (region) this.drawStatic(region);
    if (overlay || full) this.drawOverlay();
    for (const listener of this.listeners) listener(time);
  }
}
