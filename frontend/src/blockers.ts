// Why a whole-picture job cannot be sent as things are (null: it can): read by the actions (enabled), the
// panels (the reason shown next to the button) and the services (the message when asked anyway).

import { currentEngine, faceEngines, type AppState } from "./state";

const onTheirWay = (s: AppState) => s.jobOrder.map((id) => s.jobs[id]).filter((j) => j && ["queued", "running"].includes(j.status));

/** Upscaling replaces the picture: not while results made for the picture as it is are waiting to be judged. */
export function upscaleBlocker(state: AppState): string | null {
  if (!state.picture) return "Open a picture first.";
  if (state.staging.items.length) return "Accept or discard the staged results first: they fit the picture at its present size.";
  const waiting = onTheirWay(state);
  if (waiting.some((j) => j.kind === "upscale")) return "An upscale of this picture is on its way.";
  if (waiting.length) return "Wait for the jobs on their way: their results fit the picture at its present size.";
  return null;
}

/** Why the faces job cannot be sent as things are, or null. */
export function facesBlocker(state: AppState): string | null {
  if (!state.picture) return "Open a picture first.";
  if (!state.faces.boxes.some((b) => b.enabled)) {
    return state.faces.boxes.length ? "Every face is switched off: tick the faces to fix." : "Find the faces first, or draw a box around one.";
  }
  const engine = currentEngine(state);
  const redraws = engine !== undefined && faceEngines(state).includes(engine);
  if (!redraws && !state.faces.restorer) {
    const models = faceEngines(state).map((e) => e.name);
    return (
      `${state.settings.engine} cannot fix faces: choose a diffusion model in Generation` +
      `${models.length ? ` (here: ${models.join(", ")})` : ""} or a face restorer.`
    );
  }
  return null;
}
