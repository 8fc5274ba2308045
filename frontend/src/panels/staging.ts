// The staging bar over the canvas: which result is on show, before/after, accept and discard.

import { seamScores, seamText } from "../seams";
import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

export class StagingPanel implements Panel {
  constructor(toggleBefore: () => void) {
    // a click switches between the result and the picture before it (holding \ shows before while held)
    const button = $("#before-after");
    button.addEventListener("click", () => {
      button.blur(); // Enter then accepts, as on the canvas
      toggleBefore();
    });
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "staging", "before")) return;
    // what can be shown: a result still being fetched is not counted until it is drawn
    const ready = state.staging.items.filter((i) => i.ready !== false);
    const n = ready.length;
    const shown = ready.indexOf(state.staging.items[state.staging.index]);
    $("#staging").hidden = n === 0;
    $("#staging-count").textContent = n ? `${Math.max(0, shown) + 1} / ${n}` : "";
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
    // the label says what is on show
    button.textContent = state.before ? "Showing: before" : "Showing: result";
    button.title = state.before ? "Click to show the result (or hold \\)" : "Click to show the picture before this result (or hold \\)";
    button.setAttribute("aria-pressed", String(state.before));
    $("#stage").classList.toggle("showing-before", state.before);
  }
}
