// Opening a Retouch PNG offers to recall the settings it was made with.

import type { AppState, Store } from "../state";
import { withEngine } from "../jobs";
import { $, changed, type Panel } from "./dom";

export class RecallPanel implements Panel {
  constructor(private readonly store: Store) {
    $("#recall-apply").addEventListener("click", () => this.apply());
    $("#recall-dismiss").addEventListener("click", () => store.apply({ recall: null }));
  }

  private apply(): void {
    const s = this.store.state;
    if (!s.recall) return;
    const wanted = { ...s.settings, ...s.recall.settings };
    const engine = s.engines.find((e) => e.name === wanted.engine);
    // an engine this server lacks keeps the current one; the rest still applies
    const settings = engine ? { ...withEngine(wanted, engine), ...pick(s.recall.settings) } : { ...wanted, engine: s.settings.engine };
    this.store.apply({ settings, recall: null });
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

/** withEngine resets model settings to the engine's defaults: the recipe's own values win. */
function pick(settings: Partial<AppState["settings"]>): Partial<AppState["settings"]> {
  const { steps, guidance, scheduler } = settings;
  return Object.fromEntries(Object.entries({ steps, guidance, scheduler }).filter(([, v]) => v !== undefined));
}
