// Opening a Retouch PNG offers to recall the settings it was made with.

import type { AppState, Store } from "../state";
import { recallPatch } from "../recipe";
import { $, changed, type Panel } from "./dom";

export class RecallPanel implements Panel {
  constructor(private readonly store: Store) {
    $("#recall-apply").addEventListener("click", () => this.apply());
    $("#recall-dismiss").addEventListener("click", () => store.apply({ recall: null }));
  }

  private apply(): void {
    const s = this.store.state;
    if (s.recall) this.store.apply(recallPatch(s, s.recall));
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "recall")) return;
    const offer = state.recall;
    $("#recall").hidden = !offer;
    if (!offer) return;
    const names = Object.keys(offer.settings).length;
    $("#recall-text").textContent = `${offer.name} was made with Retouch (${offer.settings.engine ?? "?"}, ${names} settings).`;
  }
}
