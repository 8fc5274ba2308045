// The seams panel: repair the seam along the last accepted fill's edge (one click), or along a seam
// painted over with the mask brush; show where the last fill's boundary runs; the repair's settings
// (bound to the settings like the generation panel's fields, through their `data-setting`); what the last
// repair did (a repair that changed nothing stages nothing, and this says why); a number the settings
// cannot take says what they allow.

import type { History } from "../history";
import { seamEngines } from "../seams";
import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

/** The seam settings' fields, by `data-setting`, with the name the message gives them. */
const FIELDS = { seamBand: "Band", seamPasses: "Passes", seamTarget: "Target" } as const;

/** What is wrong with a seam setting's text, or null when the field takes it. */
export function invalidSetting(label: string, text: string, min: number, max: number, whole: boolean, kept: number): string | null {
  const value = Number(text);
  if (text.trim() !== "" && Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value))) return null;
  const allowed = whole ? `a whole number from ${min} to ${max}` : `a number from ${min} to ${max}`;
  const given = text.trim() === "" ? "an empty field" : `"${text}"`;
  return `${label}: ${given} is not allowed; it takes ${allowed} (the repair keeps ${kept}).`;
}

export class SeamsPanel implements Panel {
  private state: AppState | null = null;

  constructor(private readonly history: History) {
    for (const [key, label] of Object.entries(FIELDS)) {
      const input = $<HTMLInputElement>(`[data-setting=${key}]`);
      const check = () => {
        const kept = Number(this.state?.settings[key as keyof typeof FIELDS] ?? input.value);
        const message = invalidSetting(label, input.value, Number(input.min), Number(input.max), input.step === "1", kept);
        // a fixed message stays until the field takes a number again; leaving the field puts the kept value back
        if (message) this.say(message);
        else if ($("#seam-invalid").dataset.field === key) this.say(null);
        $("#seam-invalid").dataset.field = message ? key : "";
      };
      input.addEventListener("input", check);
    }
  }

  private say(message: string | null): void {
    const note = $("#seam-invalid");
    note.hidden = !message;
    note.textContent = message ?? "";
  }

  update(state: AppState, previous: AppState | null): void {
    this.state = state;
    if (changed(state, previous, "engines", "settings")) this.engineList(state);
    if (changed(state, previous, "jobs", "jobOrder")) this.outcome(state);
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

  /** What the newest job did, when it is a finished seam repair: "Nothing staged: no pass needed: ...". */
  private outcome(state: AppState): void {
    const newest = state.jobOrder.length ? state.jobs[state.jobOrder[0]] : undefined;
    const outcome = newest?.status === "succeeded" ? newest.outcome : undefined;
    const note = $("#seam-outcome");
    note.hidden = !outcome;
    note.textContent = outcome ? (outcome.unchanged ? `Nothing staged: ${outcome.text}.` : `${outcome.text}.`) : "";
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
