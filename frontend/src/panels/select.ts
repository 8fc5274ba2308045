// The Select panel: object selector or magic wand, the model, the wand's tolerance, what is proposed, and
// Add to mask / Subtract / Drop / Remove object (buttons that dispatch the select actions).

import type { AppState, Store } from "../state";
import { $, changed, element, type Panel } from "./dom";

export class SelectPanel implements Panel {
  constructor(private readonly store: Store) {
    const mode = $<HTMLSelectElement>("#select-mode");
    mode.addEventListener("change", () => this.edit({ mode: mode.value === "wand" ? "wand" : "object" }));
    const model = $<HTMLSelectElement>("#select-model");
    model.addEventListener("change", () => this.edit({ model: model.value }));
    const tolerance = $<HTMLInputElement>("#select-tolerance");
    tolerance.addEventListener("input", () => this.edit({ tolerance: Number(tolerance.value) }));
  }

  private edit(change: Partial<AppState["select"]>): void {
    this.store.apply({ select: { ...this.store.state.select, ...change } });
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "select", "tool")) return;
    const select = state.select;
    $<HTMLSelectElement>("#select-mode").value = select.mode;
    const model = $<HTMLSelectElement>("#select-model");
    if (model.options.length !== select.models.length) {
      model.replaceChildren(...select.models.map((name) => element("option", { value: name, textContent: name })));
    }
    model.value = select.model;
    $("#select-model-label").hidden = select.mode === "wand";
    $("#select-tolerance-label").hidden = select.mode !== "wand";
    $<HTMLInputElement>("#select-tolerance").value = String(select.tolerance);
    const proposal = select.proposal;
    $("#select-note").textContent = select.busy
      ? "Selecting…"
      : proposal
        ? `${proposal.area.toLocaleString("en")} px selected (${proposal.bounds.width}×${proposal.bounds.height})`
        : state.tool === "select"
          ? "Click an object or drag a box around it; Alt-click or right-click takes a part away."
          : "Press S, then click an object.";
  }
}
