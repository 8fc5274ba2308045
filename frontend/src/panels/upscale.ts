// The upscale panel: lanczos (no weights, always there) or an upscaling model, the factor, the size it
// gives, and the button. The result replaces the open picture when it arrives; Undo brings the old one back.

import { upscaleBlocker } from "../blockers";
import { settled, upscalers, withError, type AppState, type Store } from "../state";
import { $, changed, element, outOfRange, type Panel } from "./dom";

const LANCZOS = "lanczos";

/** The most a model may scale by (its own factor); lanczos goes to 8. */
function maxScale(state: AppState, model: string): number {
  return model === LANCZOS ? 8 : (upscalers(state).find((e) => e.name === model)?.scale ?? 8);
}

export class UpscalePanel implements Panel {
  constructor(private readonly store: Store) {
    const model = $<HTMLSelectElement>("#upscale-model");
    model.addEventListener("change", () => {
      const s = this.store.state;
      // a model works at its own factor: that is where the factor starts
      const scale = model.value === LANCZOS ? 2 : maxScale(s, model.value);
      this.store.apply({ upscale: { model: model.value, scale } });
    });
    const factor = $<HTMLInputElement>("#upscale-factor");
    factor.addEventListener("input", () => {
      const value = Number(factor.value);
      const max = maxScale(this.store.state, this.store.state.upscale.model);
      if (factor.value === "" || !Number.isFinite(value) || value < 1 || value > max) {
        factor.setCustomValidity(`between 1 and ${max}`);
        return;
      }
      factor.setCustomValidity("");
      this.store.apply({ upscale: { ...this.store.state.upscale, scale: value } });
    });
    // a refused number puts back the factor from before the edit and says what is allowed, as every field does
    let before = this.store.state.upscale.scale;
    factor.addEventListener("focus", () => {
      before = this.store.state.upscale.scale;
    });
    factor.addEventListener("change", () => {
      const state = this.store.state;
      if (!factor.validity.valid) {
        this.store.apply({ ...withError(state, outOfRange(factor, before), false, "field:upscale"), upscale: { ...state.upscale, scale: before } });
        factor.value = String(before);
        factor.setCustomValidity("");
      } else {
        before = state.upscale.scale;
        this.store.apply(settled(state, "field:upscale"));
      }
    });
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "upscale", "engines", "picture", "staging", "jobs")) return;
    const select = $<HTMLSelectElement>("#upscale-model");
    const models = [LANCZOS, ...upscalers(state).map((e) => e.name)];
    if ([...select.options].map((o) => o.value).join("|") !== models.join("|")) {
      select.replaceChildren(
        ...models.map((name) => {
          const engine = upscalers(state).find((e) => e.name === name);
          const text = engine ? `${name} (×${engine.scale ?? "?"}${engine.architecture ? ` ${engine.architecture}` : ""})` : "lanczos (no model)";
          return element("option", { value: name, textContent: text, title: engine?.description ?? "Lanczos resampling: sharp, adds no detail" });
        }),
      );
    }
    select.value = models.includes(state.upscale.model) ? state.upscale.model : LANCZOS;
    const factor = $<HTMLInputElement>("#upscale-factor");
    factor.max = String(maxScale(state, state.upscale.model));
    if (document.activeElement !== factor) factor.value = String(state.upscale.scale);
    const blocker = upscaleBlocker(state);
    const button = $<HTMLButtonElement>("#upscale");
    button.disabled = blocker !== null;
    button.title = blocker ?? "Scale the whole picture up (its mask, paint and box with it); Undo brings it back";
    const pic = state.picture?.bounds;
    const size = pic
      ? `${pic.width}×${pic.height} → ${Math.round(pic.width * state.upscale.scale)}×${Math.round(pic.height * state.upscale.scale)}`
      : "";
    $("#upscale-note").textContent = blocker && state.picture ? blocker : size;
  }
}
