// The layers list: picture, paint and mask, each with its visibility; paint and mask can be cleared.

import type { ActionName } from "../actions";
import type { AppState, Store } from "../state";
import { $, changed, type Panel } from "./dom";

export class LayersPanel implements Panel {
  constructor(store: Store, dispatch: (name: ActionName) => void) {
    $<HTMLInputElement>("#layer-picture-visible").addEventListener("change", (e) =>
      store.apply({ pictureVisible: (e.target as HTMLInputElement).checked }),
    );
    $<HTMLInputElement>("#layer-paint-visible").addEventListener("change", (e) =>
      store.apply({ paint: { ...store.state.paint, visible: (e.target as HTMLInputElement).checked } }),
    );
    $<HTMLInputElement>("#layer-mask-visible").addEventListener("change", () => dispatch("mask.toggle"));
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "pictureVisible", "paint", "mask", "picture")) return;
    $<HTMLInputElement>("#layer-picture-visible").checked = state.pictureVisible;
    $<HTMLInputElement>("#layer-paint-visible").checked = state.paint.visible;
    $<HTMLInputElement>("#layer-mask-visible").checked = state.mask.visible;
    $("#layer-paint-swatch").style.background = state.paint.color;
    for (const id of ["#layer-paint-clear", "#layer-mask-clear"]) $<HTMLButtonElement>(id).disabled = !state.picture;
  }
}
