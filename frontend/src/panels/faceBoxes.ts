// The face boxes over the canvas, numbered as in the faces panel, following pan and zoom. They only show
// where the boxes are: the faces tool (tools/faces.ts) moves, resizes and draws them.

import { rectToScreen } from "../geometry";
import type { AppState } from "../state";
import { $, changed, element, type Panel } from "./dom";

export class FaceBoxesPanel implements Panel {
  private boxes: HTMLDivElement[] = [];

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "faces", "viewport", "tool", "picture", "staging", "before")) return;
    const layer = $("#face-boxes");
    // judging a result wants the faces unobstructed: the boxes step aside unless they are being edited
    const shown = state.picture !== null && (state.tool === "faces" || state.staging.items.length === 0);
    layer.hidden = !shown || state.faces.boxes.length === 0;
    layer.classList.toggle("editing", state.tool === "faces");
    while (this.boxes.length < state.faces.boxes.length) {
      const box = element("div", { className: "face-box" }, "face-box");
      box.append(element("span", { className: "face-number" }, "face-number"));
      for (const corner of ["nw", "ne", "sw", "se"]) box.append(element("span", { className: `handle ${corner}` }));
      this.boxes.push(box);
    }
    this.boxes.forEach((div, i) => {
      const face = state.faces.boxes[i];
      if (!face) {
        div.remove();
        return;
      }
      if (div.parentElement !== layer) layer.append(div);
      const r = rectToScreen(state.viewport, face);
      Object.assign(div.style, { left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px` });
      div.dataset.index = String(i);
      div.dataset.enabled = String(face.enabled);
      div.classList.toggle("off", !face.enabled);
      div.title = face.prompt;
      div.querySelector(".face-number")!.textContent = String(i + 1);
    });
  }
}
