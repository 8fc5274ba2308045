// The generation panel: engine, prompt, model settings, seed, infill, scale, feather, grow, colour
// match. A setting shows only where it does something for this engine and box, and says what it does.

import { isOutpainting } from "../geometry";
import { withEngine, workingSize } from "../jobs";
import { currentEngine, settled, withError, type AppState, type GenerationSettings, type Store } from "../state";
import { $, changed, outOfRange, type Panel } from "./dom";

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export class GenerationPanel implements Panel {
  constructor(private readonly store: Store) {
    for (const el of document.querySelectorAll<Field>("[data-setting]")) this.bind(el);
    // while grow or feather is being set (focused or hovered), the mask overlay shows what they reach
    for (const el of document.querySelectorAll<HTMLInputElement>("[data-setting=grow], [data-setting=feather]")) {
      const show = (on: boolean) => {
        const wanted = on || document.activeElement === el;
        if (store.state.maskPreview !== wanted) store.apply({ maskPreview: wanted });
      };
      el.addEventListener("focus", () => show(true));
      el.addEventListener("blur", () => show(false));
      el.addEventListener("pointerenter", () => show(true));
      el.addEventListener("pointerleave", () => show(false));
    }
  }

  private bind(el: Field): void {
    const key = el.dataset.setting as keyof GenerationSettings;
    const read = (): unknown => {
      if (el instanceof HTMLInputElement && el.type === "checkbox") return el.checked;
      if (el instanceof HTMLInputElement && el.type === "number") {
        const value = Number(el.value);
        const min = el.min === "" ? -Infinity : Number(el.min);
        const max = el.max === "" ? Infinity : Number(el.max);
        if (el.value === "" || !Number.isFinite(value) || value < min || value > max) return undefined;
        if (el.step === "1" && !Number.isInteger(value)) return undefined;
        return value;
      }
      return el.value;
    };
    const update = () => {
      const value = read();
      if (value === undefined) {
        el.setCustomValidity(`between ${(el as HTMLInputElement).min} and ${(el as HTMLInputElement).max}`);
        return;
      }
      el.setCustomValidity("");
      const state = this.store.state;
      let settings: GenerationSettings =
        key === "engine" ? withEngine(state.settings, state.engines.find((e) => e.name === value)) : { ...state.settings, [key]: value };
      if (key === "scaleMode" && value === "manual" && state.settings.scaleMode !== "manual") {
        // manual starts from the size auto would use, in the box's shape
        const size = workingSize(state.bbox, { ...state.settings, scaleMode: "auto" }, currentEngine(state));
        settings = { ...settings, scaleWidth: size.width, scaleHeight: size.height };
      }
      this.store.apply({ settings });
    };
    el.addEventListener(el instanceof HTMLSelectElement || el.type === "checkbox" ? "change" : "input", update);
    // what the field held before this edit: typing 99999 passes through 99 and 999, which are allowed and
    // applied as typed, but a refused number puts back the value from before the edit, not one of those
    let before = this.store.state.settings[key];
    el.addEventListener("focus", () => {
      before = this.store.state.settings[key];
    });
    el.addEventListener("change", () => {
      // leaving a field with a bad number puts the last good one back, saying what is allowed
      if (read() === undefined && el instanceof HTMLInputElement) {
        const state = this.store.state;
        this.store.apply({ ...withError(state, outOfRange(el, before), false, `field:${key}`), settings: { ...state.settings, [key]: before } });
        el.value = String(before); // also while it has the focus (write() leaves a focused field alone)
        el.setCustomValidity("");
      } else {
        before = this.store.state.settings[key];
        this.store.apply(settled(this.store.state, `field:${key}`)); // a good value: the note about a bad one is over
      }
    });
  }

  private write(el: Field, value: unknown): void {
    if (document.activeElement === el && el.type !== "checkbox" && !(el instanceof HTMLSelectElement)) return;
    if (el instanceof HTMLInputElement && el.type === "checkbox") el.checked = Boolean(value);
    else if (el.value !== String(value)) el.value = String(value);
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "settings", "engines", "bbox", "picture")) return;
    this.engineList(state);
    for (const el of document.querySelectorAll<Field>("[data-setting]")) {
      this.write(el, state.settings[el.dataset.setting as keyof GenerationSettings]);
    }
    const engine = currentEngine(state);
    const missing = engine?.needs_weights && engine.present === false;
    $("#engine-description").textContent = engine
      ? `${engine.description}${missing ? " — its weights are missing (see the catalog's path)." : ""}`
      : state.engines.length ? "" : "Loading engines…";
    const models = state.engines.filter((e) => e.needs_weights);
    $("#engine-models").textContent = models.length
      ? ""
      : "Diffusion models (SD 1.5/2 inpaint, SDXL inpaint, FLUX.1 Fill) appear here once installed from the Models panel (or retouch models install NAME; your own files: retouch models add PATH)";
    $("#prompt-fields").hidden = !engine?.takes_prompt;
    const uses = new Set(engine?.parameters ?? []);
    for (const name of ["steps", "guidance", "strength", "scheduler"]) $(`#${name}-field`).hidden = !uses.has(name);
    $("#model-fields").hidden = !["steps", "guidance", "strength", "scheduler"].some((name) => uses.has(name));
    $("#negative-prompt-field").hidden = !uses.has("negative_prompt");
    this.samplers(state);
    $("#seed-field").hidden = state.settings.seedMode !== "fixed";
    // a fixed seed (a recall fixes the recipe's) makes every fill alike: said where the seed is set
    const note = $("#seed-note");
    note.hidden = state.settings.seedMode !== "fixed" || DETERMINISTIC.includes(engine?.name ?? "");
    note.textContent = `Every fill uses seed ${state.settings.seed}; choose random for a different result each time.`;
    $("#seed-row").hidden = DETERMINISTIC.includes(engine?.name ?? "");
    // infill only fills empty pixels: it shows when the box reaches past the picture
    const empty = state.picture !== null && isOutpainting(state.bbox, state.picture.bounds);
    $("#infill-fields").hidden = !empty;
    $("#infill-note").hidden = empty;
    $("#infill-color-field").hidden = !empty || state.settings.infill !== "solid";
    $("#tile-size-field").hidden = !empty || state.settings.infill !== "tile";
    // scale: each choice names the working size it gives for this box
    const box = state.bbox;
    const size = (mode: GenerationSettings["scaleMode"]) => {
      const s = workingSize(box, { ...state.settings, scaleMode: mode }, engine);
      return `${s.width}×${s.height}`;
    };
    const auto = size("auto");
    const own = `${box.width}×${box.height}`;
    $("#scale-auto").textContent = engine?.native_size ? `auto → ${auto} (engine's size)` : `auto → ${auto} (the box's own size)`;
    $("#scale-none").textContent = `none → ${size("none")}`;
    $("#scale-manual").textContent = state.settings.scaleMode === "manual" ? `manual → ${size("manual")}` : "manual W×H";
    $("#scale-size-fields").hidden = state.settings.scaleMode !== "manual";
    $("#scale-note").textContent = auto === own && state.settings.scaleMode === "auto" ? "This engine works at the box's own size." : "";
  }

  private engineList(state: AppState): void {
    const select = $<HTMLSelectElement>("#engine");
    const label = (e: AppState["engines"][number]) =>
      e.needs_weights ? `${e.name} (model${e.present === false ? ", weights missing" : ""})` : e.name;
    // upscalers and face restorers have panels of their own: they cannot fill a mask
    const engines = state.engines.filter((e) => (e.purpose ?? "inpainting") === "inpainting");
    const labels = engines.map(label);
    if (select.options.length !== labels.length || labels.some((l, i) => select.options[i].textContent !== l)) {
      select.replaceChildren(
        ...engines.map((e) => {
          const option = document.createElement("option");
          option.value = e.name;
          option.textContent = label(e);
          option.title = e.description;
          return option;
        }),
      );
      select.value = state.settings.engine;
    }
  }

  private samplers(state: AppState): void {
    const engine = currentEngine(state);
    const sampler = $<HTMLSelectElement>("#scheduler");
    const choices = ["", ...(engine?.schedulers ?? [])];
    if ([...sampler.options].map((o) => o.value).join("|") !== choices.join("|")) {
      sampler.replaceChildren(
        ...choices.map((name) => {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = name || `default (${engine?.defaults?.scheduler ?? "model's"})`;
          return option;
        }),
      );
    }
    sampler.value = state.settings.scheduler;
  }
}

/** Engines that give the same pixels whatever the seed (the fast-marching fills). */
const DETERMINISTIC = ["telea", "navier-stokes"];
