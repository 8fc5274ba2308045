// The seams panel: repair the seam along the last accepted fill's edge (one click), or along a seam
// painted over with the mask brush; show where the last fill's boundary runs; the repair's settings
// (bound to the settings like the generation panel's fields, through their `data-setting`).

import type { History } from "../history";
import { seamEngines } from "../seams";
import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

export class SeamsPanel implements Panel {
  constructor(private readonly history: History) {}

  update(state: AppState, previous: AppState | null): void {
    if (changed(state, previous, "engines", "settings")) this.engineList(state);
    if (changed(state, previous, "history", "picture", "submitting", "seamOutline")) {
      const region = this.history.lastFilled();
      const repair = $<HTMLButtonElement>("[data-testid=repair-seams]");
      repair.disabled = !state.picture || state.submitting || !region;
      $<HTMLButtonElement>("[data-testid=repair-painted]").disabled = !state.picture || state.submitting;
      const outline = $("[data-testid=seam-outline]");
      outline.setAttribute("aria-pressed", String(state.seamOutline));
      outline.textContent = state.seamOutline ? "Hide boundary" : "Show boundary";
      $("#seam-hint").textContent = !state.picture
        ? ""
        : region
          ? `Repairs along the edge of the last accepted ${region.painted ? "painted seam" : "fill"}; each click repairs again.`
          : "Accept a fill to repair along its edge, or paint over a seam (B) and repair the painted one.";
    }
  }

  private engineList(state: AppState): void {
    const select = $<HTMLSelectElement>("#seam-engine");
    const names = seamEngines(state.engines);
    if ([...select.options].map((o) => o.value).join("|") !== names.join("|")) {
      select.replaceChildren(
        ...names.map((name) => {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = name;
          return option;
        }),
      );
    }
    select.value = names.includes(state.settings.seamEngine) ? state.settings.seamEngine : "poisson";
  }
}
