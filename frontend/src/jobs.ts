// Jobs as the page sees them: the request an invoke sends, and how server events change the state.
// Pure functions; the generation service does the I/O around them.

import type { FacesJobCreate, FillJobCreate, UpscaleJobCreate } from "./api/client";
import type { JobEvent } from "./api/socket";
import type { Rect } from "./geometry";
import {
  withError,
  type AppState,
  type EngineInfo,
  type FaceBox,
  type GenerationSettings,
  type JobStatus,
  type JobView,
  type Patch,
  type UpscaleChoice,
} from "./state";

/** The job for the current settings. `emptyPixels`: the box holds empty pixels (it reaches past the
 * picture), the only case where the infill method does anything. */
export function buildJob(settings: GenerationSettings, engine: EngineInfo | undefined, image: string, mask: string | undefined,
  emptyPixels = true): FillJobCreate {
  const body: FillJobCreate = {
    image,
    ...(mask ? { mask } : {}),
    engine: settings.engine,
    scale:
      settings.scaleMode === "manual"
        ? { mode: "manual", width: settings.scaleWidth, height: settings.scaleHeight }
        : { mode: settings.scaleMode },
    feather: settings.feather,
    grow: settings.grow,
    color_match: settings.colorMatch,
    seed: settings.seedMode === "fixed" ? settings.seed : -1,
  };
  if (settings.toneMatch) body.tone_match = true;
  if (settings.seamPass) body.seam_pass = true;
  if (emptyPixels) body.infill = { method: settings.infill, color: settings.infillColor, tile_size: settings.tileSize };
  const uses = new Set(engine?.parameters ?? []);
  if (uses.has("steps")) body.steps = settings.steps;
  if (uses.has("guidance")) body.guidance = settings.guidance;
  if (uses.has("strength")) body.strength = settings.strength;
  if (uses.has("scheduler") && settings.scheduler && engine?.schedulers?.includes(settings.scheduler)) {
    body.scheduler = settings.scheduler;
  }
  if (engine?.takes_prompt) body.prompt = settings.prompt;
  if (engine?.takes_prompt && uses.has("negative_prompt")) body.negative_prompt = settings.negativePrompt;
  return body;
}

/** The upscale job for the panel's choice. */
export function buildUpscaleJob(choice: UpscaleChoice, image: string): UpscaleJobCreate {
  return { kind: "upscale", image, model: choice.model, scale: choice.scale };
}

/** The faces job: the enabled boxes (in the picture's pixels, clipped to it) with their own prompts; the
 * generation panel's engine, prompt, strength and model settings where the engine redraws faces (`engine`
 * undefined: restorer only), and the restorer if one is chosen. */
export function buildFacesJob(settings: GenerationSettings, engine: EngineInfo | undefined, restorer: string, boxes: FaceBox[],
  picture: Rect, image: string): FacesJobCreate {
  const faces = boxes
    .filter((b) => b.enabled)
    .map((b) => {
      const x = Math.max(0, Math.round(b.x - picture.x));
      const y = Math.max(0, Math.round(b.y - picture.y));
      const width = Math.min(picture.width - x, Math.round(b.x - picture.x + b.width) - x);
      const height = Math.min(picture.height - y, Math.round(b.y - picture.y + b.height) - y);
      return { x, y, width, height, ...(b.prompt.trim() ? { prompt: b.prompt.trim() } : {}) };
    });
  const body: FacesJobCreate = { kind: "faces", image, faces, seed: settings.seedMode === "fixed" ? settings.seed : -1 };
  if (restorer) body.restorer = restorer;
  if (engine) {
    const uses = new Set(engine.parameters ?? []);
    body.engine = engine.name;
    body.strength = settings.strength;
    if (engine.takes_prompt) body.prompt = settings.prompt;
    if (engine.takes_prompt && uses.has("negative_prompt")) body.negative_prompt = settings.negativePrompt;
    if (uses.has("steps")) body.steps = settings.steps;
    if (uses.has("guidance")) body.guidance = settings.guidance;
    if (uses.has("scheduler") && settings.scheduler && engine.schedulers?.includes(settings.scheduler)) body.scheduler = settings.scheduler;
  }
  return body;
}

/** Settings after choosing `engine`: a model brings its own steps, guidance and sampler (FLUX.1 Fill wants
 * guidance 30 where SD wants 7.5); a sampler the model cannot run falls back to its default. */
export function withEngine(settings: GenerationSettings, engine: EngineInfo | undefined): GenerationSettings {
  const next = { ...settings, engine: engine?.name ?? settings.engine };
  if (!engine?.needs_weights) return next;
  if (engine.name !== settings.engine && engine.defaults) {
    next.steps = engine.defaults.steps;
    next.guidance = engine.defaults.guidance;
    next.scheduler = "";
  }
  if (next.scheduler && !engine.schedulers?.includes(next.scheduler)) next.scheduler = "";
  return next;
}

/** The state with `job` (just accepted by the server) known to the page, first in the queue and active:
 * applied before any event about it can arrive. */
export function withNewJob(state: AppState, job: JobView): Patch {
  return {
    jobs: { ...state.jobs, [job.id]: { ...job, document: state.picture?.id } },
    jobOrder: [job.id, ...state.jobOrder.filter((id) => id !== job.id)],
    activeJob: job.id,
  };
}

export function newJob(id: string, engine: string, box: Rect, position: number | null, source?: Rect): JobView {
  return {
    startedAt: null,
    source: source ?? { x: 0, y: 0, width: box.width, height: box.height },
    id,
    status: "queued",
    engine,
    box,
    step: 0,
    total: 0,
    position,
    error: null,
    preview: null,
    resultImage: null,
    seed: null,
    device: null,
    createdAt: Date.now(),
  };
}

export const FINISHED: JobStatus[] = ["succeeded", "failed", "canceled"];

export function isFinished(status: JobStatus): boolean {
  return FINISHED.includes(status);
}

/** How one server event changes the page. Replayed events (after a reconnect) change nothing twice. */
export function applyEvent(state: AppState, event: JobEvent): Patch {
  if (event.type === "queue.status") return { queue: { pending: event.pending, running: event.running } };
  // the server refused something the socket sent: say so
  if (event.type === "error") return withError(state, `Server: ${event.message}`);
  if (event.type === "model.install") return {}; // the Models panel follows installs (panels/models.ts)
  const id = event.job_id;
  const job = state.jobs[id];
  if (!job) return {};
  const set = (change: Partial<JobView>): Patch => ({ jobs: { ...state.jobs, [id]: { ...job, ...change } } });
  // a finished job stays finished: late or replayed events must not bring it back
  if (isFinished(job.status) && !(event.type === "job.succeeded" && job.status === "succeeded" && !job.resultImage)) {
    return {};
  }
  switch (event.type) {
    case "job.queued":
      return set({ status: "queued", position: event.position });
    case "job.started":
      return set({ status: "running", position: null, startedAt: job.startedAt ?? Date.now(), device: event.device || job.device });
    case "job.progress":
      return set({
        status: "running",
        startedAt: job.startedAt ?? Date.now(),
        step: event.step,
        total: event.total,
        preview: event.preview ?? job.preview,
        stage: event.stage ?? null,
      });
    case "job.succeeded": {
      const image = event.result.image;
      const seed = event.seed ?? null;
      const report = event.result.report ?? null;
      const outcome = seamOutcome(report);
      const patch = set({ status: "succeeded", resultImage: image, seed, preview: null, step: job.total || 1, total: job.total || 1, ...(outcome ? { outcome } : {}) });
      // an upscale replaces the picture when it arrives (services.finishUpscale): it is not judged in the box;
      // a seam repair that changed nothing has nothing to judge (the seams panel says why)
      // a result is judged over the document it was made for; sent from another one, it waits in the gallery
      const here = !job.document || job.document === state.picture?.id;
      if (job.kind !== "upscale" && here && !outcome?.unchanged && !state.staging.items.some((s) => s.jobId === id)) {
        const items = [...state.staging.items, { jobId: id, box: job.box, imageId: image, seed, recipe: null, source: job.source, report, ready: false }];
        // the result on show moves to it once it is decoded (ResultCache), so the count and the picture change together
        patch.staging = { items, index: state.staging.items.length ? state.staging.index : 0 };
      }
      return patch;
    }
    case "job.failed": {
      const message = event.error.message;
      return { ...set({ status: "failed", error: message, preview: null }), ...withError(state, `Job failed: ${message}`) };
    }
    case "job.canceled":
      return set({ status: "canceled", preview: null, position: null });
  }
}

/** A seam repair's outcome from its report (`outcome`, and `changed` false when no pass was kept). */
export function seamOutcome(report: Record<string, unknown> | null | undefined): { text: string; unchanged: boolean } | null {
  if (!report || typeof report.outcome !== "string") return null;
  return { text: report.outcome, unchanged: report.changed === false };
}

/** The size an engine will work at for a box (the server's `working_size`, mirrored to show it). */
export function workingSize(box: { width: number; height: number }, settings: GenerationSettings, engine: EngineInfo | undefined): { width: number; height: number } {
  const grid = Math.max(1, engine?.grid ?? 1);
  const snap = (v: number) => Math.max(grid, Math.round(v / grid) * grid);
  if (settings.scaleMode === "manual") return { width: snap(settings.scaleWidth), height: snap(settings.scaleHeight) };
  // auto brings the box to the engine's native area; engines without one work at the box's own size
  // (the server's `max_area` cap is not published, and no engine sets it)
  let factor = 1;
  if (settings.scaleMode === "auto" && engine?.native_size) {
    factor = Math.sqrt((engine.native_size * engine.native_size) / (box.width * box.height));
  }
  return { width: snap(box.width * factor), height: snap(box.height * factor) };
}
