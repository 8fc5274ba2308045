// The status bar: connection, zoom, the picture point under the pointer, picture and box sizes.

import { isOutpainting } from "../geometry";
import type { AppState } from "../state";
import { $, type Panel } from "./dom";

export class StatusBar implements Panel {
  update(state: AppState, previous: AppState | null): void {
    if (!previous || previous.connection !== state.connection) {
      const text = { connecting: "connecting…", open: "connected", reconnecting: "server unreachable, reconnecting…" };
      const el = $("#connection");
      el.textContent = text[state.connection];
      el.dataset.state = state.connection;
    }
    if (!previous || previous.viewport.zoom !== state.viewport.zoom) {
      $("#zoom").textContent = `${Math.round(state.viewport.zoom * 1000) / 10} %`;
    }
    if (!previous || previous.pointer !== state.pointer || previous.viewport !== state.viewport) {
      const p = state.pointer;
      if (p && state.picture) {
        const x = Math.floor((p.x - state.viewport.x) / state.viewport.zoom);
        const y = Math.floor((p.y - state.viewport.y) / state.viewport.zoom);
        $("#position").textContent = `x ${x}, y ${y}`;
      } else {
        $("#position").textContent = "";
      }
    }
    if (!previous || previous.picture !== state.picture || previous.bbox !== state.bbox) {
      const pic = state.picture;
      $("#picture-size").textContent = pic
        ? `${pic.bounds.width}×${pic.bounds.height}${isOutpainting(state.bbox, pic.bounds) ? " · outpainting (the box reaches past the picture)" : ""}`
        : "";
      const b = state.bbox;
      $("#bbox-size").textContent = pic ? `box ${b.width}×${b.height} at ${b.x}, ${b.y}` : "";
    }
  }
}
