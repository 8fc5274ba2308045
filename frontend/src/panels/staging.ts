// The staging bar over the canvas: which result is on show, before/after, accept and discard.

import { seamScores, seamText } from "../seams";
import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

export class StagingPanel implements Panel {
  constructor(holdBefore: (down: boolean) => void) {
    // pressed and held, the button shows the picture before the result (as holding \ does)
    const button = $("#before-after");
    button.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      holdBefore(true);
    });
    for (const type of ["pointerup", "pointerleave", "pointercancel"]) button.addEventListener(type, () => holdBefore(false));
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "staging", "before")) return;
    const n = state.staging.items.length;
    $("#staging").hidden = n === 0;
    $("#staging-count").textContent = n ? `${state.staging.index + 1} / ${n}` : "";
    const seed = state.staging.items[state.staging.index]?.seed;
    $("#staging-seed").textContent = seed !== null && seed !== undefined ? `seed ${seed}` : "";
    // how visible the result's edge is: "seam 1.4", or before → after for a repair or a seam pass
    const item = state.staging.items[state.staging.index];
    const scores = item ? seamScores(item.report, item.recipe) : null;
    const seam = $("#staging-seam");
    seam.hidden = !scores;
    seam.textContent = scores ? seamText(scores.before, scores.after) : "";
    seam.classList.toggle("better", scores !== null && scores.before !== null && scores.after < scores.before);
    seam.title = "Seam score: how visible the edge of the fill is (1 = as natural as the picture around it; higher shows)";
    const button = $("#before-after");
    button.textContent = state.before ? "Before" : "After";
    button.setAttribute("aria-pressed", String(state.before));
    $("#stage").classList.toggle("showing-before", state.before);
  }
}
