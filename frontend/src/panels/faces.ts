// The faces panel: find the faces, the numbered list of boxes (on/off, a prompt of its own, remove), the
// face restorer, what will redraw them, and Fix faces. The boxes themselves are on the canvas (faceBoxes).

import { facesBlocker } from "../blockers";
import { currentEngine, faceEngines, faceRestorers, type AppState, type FaceBox, type Store } from "../state";
import { $, changed, element, type Panel } from "./dom";

export class FacesPanel implements Panel {
  private rows: HTMLLIElement[] = [];

  constructor(private readonly store: Store) {
    const restorer = $<HTMLSelectElement>("#face-restorer");
    restorer.addEventListener("change", () => this.store.apply({ faces: { ...this.store.state.faces, restorer: restorer.value } }));
  }

  private edit(index: number, change: Partial<FaceBox> | null): void {
    const faces = this.store.state.faces;
    const boxes = change === null ? faces.boxes.filter((_, i) => i !== index) : faces.boxes.map((b, i) => (i === index ? { ...b, ...change } : b));
    this.store.apply({ faces: { ...faces, boxes } });
  }

  private row(index: number): HTMLLIElement {
    const toggle = element("input", { type: "checkbox", title: "Fix this face" }, "face-toggle");
    toggle.addEventListener("change", () => this.edit(index, { enabled: toggle.checked }));
    const prompt = element("input", { type: "text", placeholder: "its own prompt (optional)" }, "face-prompt");
    prompt.addEventListener("input", () => this.edit(index, { prompt: prompt.value }));
    const remove = element("button", { type: "button", textContent: "×", title: "Remove this box" }, "face-remove");
    remove.addEventListener("click", () => this.edit(index, null));
    const number = element("span", { className: "face-number", textContent: String(index + 1) });
    const item = element("li", {}, "face-item");
    item.dataset.index = String(index);
    item.append(toggle, number, prompt, remove);
    return item;
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "faces", "engines", "settings", "picture", "staging")) return;
    const faces = state.faces;
    const list = $("#face-list");
    while (this.rows.length < faces.boxes.length) this.rows.push(this.row(this.rows.length));
    this.rows.forEach((row, i) => {
      const box = faces.boxes[i];
      if (!box) {
        row.remove();
        return;
      }
      if (row.parentElement !== list) list.append(row);
      const toggle = row.querySelector<HTMLInputElement>("[data-testid=face-toggle]")!;
      toggle.checked = box.enabled;
      const prompt = row.querySelector<HTMLInputElement>("[data-testid=face-prompt]")!;
      if (document.activeElement !== prompt && prompt.value !== box.prompt) prompt.value = box.prompt;
      row.classList.toggle("off", !box.enabled);
      row.title = `${box.width}×${box.height} at ${Math.round(box.x)}, ${Math.round(box.y)}${box.score !== null ? ` · found (score ${box.score.toFixed(2)})` : " · drawn"}`;
    });

    const note = $("#faces-note");
    const searched = faces.searched;
    note.classList.toggle("none-found", searched?.found === 0);
    note.textContent = faces.finding
      ? "Looking for faces…"
      : searched?.found === 0
        ? `No faces found (faces of ${searched.smallest} px and larger were looked for). Draw a box around a face to fix it anyway.`
        : searched
          ? `${searched.found} face${searched.found === 1 ? "" : "s"} found. Click a box (or untick it here) to leave that face; drag a box to move or resize it, elsewhere to add one.`
          : "";
    note.hidden = note.textContent === "";

    const restorer = $<HTMLSelectElement>("#face-restorer");
    const names = ["", ...faceRestorers(state).map((e) => e.name)];
    if (restorer.options.length !== names.length || [...restorer.options].some((o, i) => o.value !== names[i])) {
      restorer.replaceChildren(
        ...names.map((name) => element("option", { value: name, textContent: name || (names.length > 1 ? "none" : "none registered") })),
      );
    }
    restorer.value = names.includes(faces.restorer) ? faces.restorer : "";

    const engine = currentEngine(state);
    const redraws = engine !== undefined && faceEngines(state).includes(engine);
    $("#faces-engine").textContent = redraws
      ? `Redrawn by ${engine.name} at strength ${state.settings.strength}, each face at the model's size, with the Generation panel's prompt where a face has none.`
      : `${state.settings.engine} does not redraw faces${faceEngines(state).length ? ` (models that do: ${faceEngines(state).map((e) => e.name).join(", ")})` : ""}.`;
    const blocker = facesBlocker(state);
    const fix = $<HTMLButtonElement>("#faces-fix");
    fix.disabled = blocker !== null;
    fix.title = blocker ?? "Fix the ticked faces in one job; the result is staged to accept or discard";
    const enabled = faces.boxes.filter((b) => b.enabled).length;
    fix.textContent = enabled ? `Fix ${enabled} face${enabled === 1 ? "" : "s"}` : "Fix faces";
    $<HTMLButtonElement>("#faces-find").disabled = !state.picture || faces.finding;
    $<HTMLButtonElement>("#faces-clear").disabled = faces.boxes.length === 0;
  }
}
