// The DOM around the canvas: toolbar, generation panel, queue, staging bar, messages, status bar.
// Each part updates itself from the state; elements are kept and changed in place (never rebuilt under
// the pointer), so a click always lands on the element that was pressed.

import { ACTIONS } from "./actions";
import { describeKeys } from "./actions/keys";
import { isOutpainting, rectToScreen } from "./geometry";
import { isFinished, withEngine } from "./jobs";
import { boxJob, currentEngine, type AppState, type GenerationSettings, type JobView, type Store } from "./state";

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

export interface UiHandlers {
  dispatch(action: string): void;
  cancel(jobId: string): void;
  dismissError(id: number): void;
}

const mac = /Mac|iPhone|iPad/.test(navigator.platform);

export class Ui {
  private queueItems = new Map<string, HTMLLIElement>();
  private errorItems = new Map<number, HTMLElement>();

  constructor(
    private readonly store: Store,
    private readonly handlers: UiHandlers,
  ) {
    this.bindActions();
    this.bindBrush();
    this.bindSettings();
  }

  private bindActions(): void {
    for (const element of document.querySelectorAll<HTMLElement>("[data-action]")) {
      const name = element.dataset.action!;
      const action = ACTIONS.find((a) => a.name === name);
      if (action) element.title = action.keys.length ? `${action.label} (${describeKeys(action.keys, mac)})` : action.label;
      element.addEventListener("click", () => {
        // hand the keyboard back to the canvas: Enter then accepts, it does not press the button again
        element.blur();
        this.handlers.dispatch(name);
      });
    }
  }

  private bindBrush(): void {
    const size = $<HTMLInputElement>("#brush-size");
    size.addEventListener("change", () => {
      const value = Math.round(Number(size.value));
      if (Number.isFinite(value) && value >= 1 && value <= 1024) {
        this.store.apply({ brush: { ...this.store.state.brush, size: value } });
      } else {
        size.value = String(this.store.state.brush.size);
      }
    });
    const hardness = $<HTMLInputElement>("#brush-hardness");
    hardness.addEventListener("input", () => {
      this.store.apply({ brush: { ...this.store.state.brush, hardness: Number(hardness.value) } });
    });
  }

  private bindSettings(): void {
    for (const element of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("[data-setting]")) {
      const key = element.dataset.setting as keyof GenerationSettings;
      const read = (): unknown => {
        if (element instanceof HTMLInputElement && element.type === "checkbox") return element.checked;
        if (element instanceof HTMLInputElement && element.type === "number") {
          const value = Number(element.value);
          const min = element.min === "" ? -Infinity : Number(element.min);
          const max = element.max === "" ? Infinity : Number(element.max);
          if (element.value === "" || !Number.isFinite(value) || value < min || value > max) return undefined;
          return value;
        }
        return element.value;
      };
      const update = () => {
        const value = read();
        if (value === undefined) {
          element.setCustomValidity(`between ${(element as HTMLInputElement).min} and ${(element as HTMLInputElement).max}`);
          return;
        }
        element.setCustomValidity("");
        const state = this.store.state;
        const settings =
          key === "engine"
            ? withEngine(state.settings, state.engines.find((e) => e.name === value))
            : { ...state.settings, [key]: value };
        this.store.apply({ settings });
      };
      element.addEventListener(element instanceof HTMLSelectElement || element.type === "checkbox" ? "change" : "input", update);
      element.addEventListener("change", () => {
        // leaving a field with a bad number puts the last good one back
        if (read() === undefined) {
          this.write(element, this.store.state.settings[key]);
          element.setCustomValidity("");
        }
      });
    }
  }

  private write(element: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, value: unknown): void {
    if (document.activeElement === element && element.type !== "checkbox" && !(element instanceof HTMLSelectElement)) return;
    if (element instanceof HTMLInputElement && element.type === "checkbox") element.checked = Boolean(value);
    else if (element.value !== String(value)) element.value = String(value);
  }

  update(state: AppState, previous: AppState | null): void {
    const changed = <K extends keyof AppState>(key: K) => !previous || previous[key] !== state[key];
    if (changed("tool") || changed("brush")) this.updateToolbar(state);
    if (changed("settings") || changed("engines")) this.updateSettings(state);
    if (changed("history") || changed("picture") || changed("mask")) this.updateHistory(state);
    if (changed("jobs") || changed("jobOrder") || changed("queue")) this.updateQueue(state);
    if (changed("staging")) this.updateStaging(state);
    if (changed("errors")) this.updateErrors(state);
    if (changed("jobs") || changed("activeJob") || changed("viewport") || changed("staging") || changed("screen")) this.updateBoxStatus(state);
    this.updateStatusBar(state, previous);
  }

  private updateToolbar(state: AppState): void {
    for (const button of document.querySelectorAll<HTMLElement>("[data-action^='tool.']")) {
      const active = button.dataset.action === `tool.${state.tool}`;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", String(active));
    }
    const size = $<HTMLInputElement>("#brush-size");
    if (document.activeElement !== size) size.value = String(state.brush.size);
    $<HTMLInputElement>("#brush-hardness").value = String(state.brush.hardness);
    const hints: Record<string, string> = {
      brush: "Paint the area to fill · [ ] size · Shift+[ ] hardness",
      eraser: "Erase the mask · [ ] size",
      bbox: "Drag the box or its handles · past the picture = outpainting",
      pan: "Drag to pan · wheel to zoom",
    };
    $("#tool-hint").textContent = hints[state.tool] ?? "";
  }

  private updateSettings(state: AppState): void {
    const select = $<HTMLSelectElement>("#engine");
    const names = state.engines.map((e) => e.name);
    if (select.options.length !== names.length || names.some((n, i) => select.options[i].value !== n)) {
      select.replaceChildren(
        ...state.engines.map((e) => {
          const option = document.createElement("option");
          option.value = e.name;
          option.textContent = e.needs_weights ? `${e.name} (model)` : e.name;
          return option;
        }),
      );
    }
    for (const element of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("[data-setting]")) {
      this.write(element, state.settings[element.dataset.setting as keyof GenerationSettings]);
    }
    const engine = currentEngine(state);
    $("#engine-description").textContent = engine?.description ?? (state.engines.length ? "" : "Loading engines…");
    $("#prompt-fields").hidden = !engine?.takes_prompt;
    const uses = new Set(engine?.parameters ?? []);
    for (const name of ["steps", "guidance", "strength", "scheduler"]) $(`#${name}-field`).hidden = !uses.has(name);
    $("#model-fields").hidden = !["steps", "guidance", "strength", "scheduler"].some((name) => uses.has(name));
    $("#negative-prompt-field").hidden = !uses.has("negative_prompt");
    const sampler = $("#scheduler") as HTMLSelectElement;
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
    $("#seed-field").hidden = state.settings.seedMode !== "fixed";
    $("#infill-color-field").hidden = state.settings.infill !== "solid";
    $("#tile-size-field").hidden = state.settings.infill !== "tile";
    $("#scale-size-fields").hidden = state.settings.scaleMode !== "manual";
  }

  private updateHistory(state: AppState): void {
    const set = (name: string, enabled: boolean) => {
      for (const b of document.querySelectorAll<HTMLButtonElement>(`[data-action='${name}']`)) b.disabled = !enabled;
    };
    set("history.undo", state.history.canUndo);
    set("history.redo", state.history.canRedo);
    const has = state.picture !== null;
    for (const name of ["mask.invert", "mask.clear", "file.download", "generate.invoke", "view.fit", "view.actual"]) set(name, has);
    $("#mask-toggle").textContent = state.mask.visible ? "Hide mask" : "Show mask";
    $("#mask-toggle").setAttribute("aria-pressed", String(!state.mask.visible));
    $("#empty-hint").hidden = has;
  }

  private jobLabel(job: JobView): string {
    switch (job.status) {
      case "queued":
        return job.position ? `queued (${job.position} ahead)` : "queued";
      case "running": {
        const where = job.device ? ` on ${job.device}` : "";
        return job.total ? `running ${job.step}/${job.total}${where}` : `running${where}`;
      }
      case "failed":
        return `failed: ${job.error ?? ""}`;
      default:
        return job.status;
    }
  }

  private updateQueue(state: AppState): void {
    const list = $("#queue");
    const ids = state.jobOrder.slice(0, 50);
    for (const [id, item] of this.queueItems) {
      if (!ids.includes(id)) {
        item.remove();
        this.queueItems.delete(id);
      }
    }
    ids.forEach((id, index) => {
      const job = state.jobs[id];
      if (!job) return;
      let item = this.queueItems.get(id);
      if (!item) {
        item = document.createElement("li");
        item.dataset.testid = "queue-item";
        item.setAttribute("data-testid", "queue-item");
        item.dataset.jobId = id;
        item.innerHTML = `<div class="line"><span class="name"></span><span class="status" data-testid="queue-status"></span></div>
          <progress max="1" value="0"></progress>
          <button type="button" data-testid="cancel-job">Cancel</button>`;
        item.querySelector("button")!.addEventListener("click", () => this.handlers.cancel(id));
        this.queueItems.set(id, item);
      }
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
      item.dataset.status = job.status;
      item.querySelector(".name")!.textContent = `${job.engine} · ${job.box.width}×${job.box.height}`;
      item.querySelector(".status")!.textContent = this.jobLabel(job);
      const bar = item.querySelector("progress")!;
      bar.max = job.total || 1;
      bar.value = job.status === "succeeded" ? bar.max : job.step;
      bar.hidden = isFinished(job.status) && job.status !== "succeeded";
      (item.querySelector("button") as HTMLButtonElement).hidden = isFinished(job.status);
    });
    const mine = Object.values(state.jobs);
    const running = mine.filter((j) => j.status === "running").length;
    const waiting = mine.filter((j) => j.status === "queued").length;
    $("#queue-summary").textContent = running || waiting ? `${running} running · ${waiting} waiting` : "";
  }

  private updateStaging(state: AppState): void {
    const bar = $("#staging");
    const n = state.staging.items.length;
    bar.hidden = n === 0;
    $("#staging-count").textContent = n ? `${state.staging.index + 1} / ${n}` : "";
    const seed = state.staging.items[state.staging.index]?.seed;
    $("#staging-seed").textContent = seed !== null && seed !== undefined ? `seed ${seed}` : "";
  }

  private updateErrors(state: AppState): void {
    const box = $("#errors");
    const ids = new Set(state.errors.map((e) => e.id));
    for (const [id, element] of this.errorItems) {
      if (!ids.has(id)) {
        element.remove();
        this.errorItems.delete(id);
      }
    }
    for (const note of state.errors) {
      if (this.errorItems.has(note.id)) continue;
      const element = document.createElement("div");
      element.className = "error";
      element.setAttribute("data-testid", "error");
      const text = document.createElement("span");
      text.textContent = note.message;
      const close = document.createElement("button");
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", "Dismiss");
      close.addEventListener("click", () => this.handlers.dismissError(note.id));
      element.append(text, close);
      box.append(element);
      this.errorItems.set(note.id, element);
    }
  }

  /** The progress bar sits inside the box on the canvas, following pan and zoom. */
  private updateBoxStatus(state: AppState): void {
    const panel = $("#box-status");
    const job = boxJob(state);
    if (!job || job.status === "canceled") {
      panel.hidden = true;
      return;
    }
    const box = rectToScreen(state.viewport, job.box);
    panel.hidden = false;
    const width = Math.max(120, Math.min(box.width - 16, 320));
    panel.style.width = `${width}px`;
    panel.style.left = `${Math.round(box.x + box.width / 2 - width / 2)}px`;
    panel.style.top = `${Math.round(Math.max(4, Math.min(state.screen.height - 40, box.y + box.height - 40)))}px`;
    const bar = $<HTMLProgressElement>("#progress");
    bar.max = job.total || 1;
    bar.value = job.status === "succeeded" ? bar.max : job.step;
    bar.dataset.status = job.status;
    if (job.status === "queued" || job.status === "running" && !job.total) bar.removeAttribute("value");
    const label =
      job.status === "succeeded"
        ? "done"
        : job.status === "failed"
          ? "failed"
          : job.status === "queued"
            ? job.position
              ? `queued, ${job.position} ahead`
              : "queued"
            : job.total
              ? `step ${job.step} of ${job.total}`
              : "working…";
    const waiting = Object.values(state.jobs).filter((j) => j.status === "queued" && j.id !== job.id).length;
    $("#progress-label").textContent = waiting && job.status === "running" ? `${label} · ${waiting} waiting` : label;
  }

  private updateStatusBar(state: AppState, previous: AppState | null): void {
    if (!previous || previous.connection !== state.connection) {
      const text = { connecting: "connecting…", open: "connected", reconnecting: "server unreachable, reconnecting…" };
      const element = $("#connection");
      element.textContent = text[state.connection];
      element.dataset.state = state.connection;
    }
    if (!previous || previous.viewport.zoom !== state.viewport.zoom) {
      $("#zoom").textContent = `${Math.round(state.viewport.zoom * 1000) / 10} %`;
    }
    if (!previous || previous.pointer !== state.pointer || previous.viewport !== state.viewport) {
      const p = state.pointer;
      if (p && state.picture) {
        const x = Math.floor((p.x - state.viewport.x) / state.viewport.zoom);
        const y = Math.floor((p.y - state.viewport.y) / state.viewport.zoom);
        $("#position").textContent = `x ${x}, y ${y}`;
      } else {
        $("#position").textContent = "";
      }
    }
    if (!previous || previous.picture !== state.picture || previous.bbox !== state.bbox) {
      const pic = state.picture;
      $("#picture-size").textContent = pic
        ? `${pic.bounds.width}×${pic.bounds.height}${isOutpainting(state.bbox, pic.bounds) ? " · box reaches past the picture (outpainting)" : ""}`
        : "";
      const b = state.bbox;
      $("#bbox-size").textContent = pic ? `box ${b.width}×${b.height} at ${b.x}, ${b.y}` : "";
    }
  }
}
