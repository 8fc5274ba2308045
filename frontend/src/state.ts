// The document and the app around it, as plain data. Pixels live in `Layers` (canvases); the state only
// names their bounds and a version that changes whenever their pixels do, so renderers know to redraw.

import type { Rect, Viewport } from "./geometry";

export type ToolName = "brush" | "eraser" | "bbox" | "pan";
export type InfillMethod = "patchmatch" | "blur" | "solid" | "tile" | "telea" | "navier-stokes";
export const INFILL_METHODS: InfillMethod[] = ["patchmatch", "blur", "solid", "tile", "telea", "navier-stokes"];
export type ScaleMode = "auto" | "manual" | "none";
export type JobStatus = "uploading" | "queued" | "running" | "succeeded" | "failed" | "canceled";

export interface EngineInfo {
  name: string;
  description: string;
  needs_weights: boolean;
  takes_prompt: boolean;
  native_size: number | null;
  grid: number;
  /** which of steps, guidance, strength, scheduler and negative_prompt the engine uses */
  parameters?: string[];
  schedulers?: string[] | null;
  defaults?: { steps: number; guidance: number; strength: number; scheduler: string } | null;
  [extra: string]: unknown;
}

/** What the generation panel holds; persisted in localStorage. */
export interface GenerationSettings {
  engine: string;
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  strength: number;
  /** Sampler; "" = the model's default. */
  scheduler: string;
  seedMode: "random" | "fixed";
  seed: number;
  infill: InfillMethod;
  infillColor: string;
  tileSize: number;
  scaleMode: ScaleMode;
  scaleWidth: number;
  scaleHeight: number;
  feather: number;
  grow: number;
  colorMatch: boolean;
}

export const DEFAULT_SETTINGS: GenerationSettings = {
  engine: "patchmatch",
  prompt: "",
  negativePrompt: "",
  steps: 30,
  guidance: 7.5,
  strength: 1,
  scheduler: "",
  seedMode: "random",
  seed: 42,
  infill: "patchmatch",
  infillColor: "#7f7f7f",
  tileSize: 32,
  scaleMode: "auto",
  scaleWidth: 512,
  scaleHeight: 512,
  feather: 4,
  grow: 0,
  colorMatch: false,
};

export interface JobView {
  id: string;
  status: JobStatus;
  engine: string;
  box: Rect;
  step: number;
  total: number;
  position: number | null;
  error: string | null;
  /** Latest streamed preview (a data URL); never part of undo. */
  preview: string | null;
  resultImage: string | null;
  seed: number | null;
  /** Where it runs ("cpu", "cuda:0"), once started. */
  device: string | null;
  createdAt: number;
}

export interface StagedResult {
  jobId: string;
  box: Rect;
  imageId: string;
  seed: number | null;
  recipe: unknown;
}

export interface ErrorNote {
  id: number;
  message: string;
}

export interface AppState {
  picture: { bounds: Rect; name: string; version: number } | null;
  mask: { visible: boolean; version: number };
  bbox: Rect;
  viewport: Viewport;
  screen: { width: number; height: number };
  tool: ToolName;
  /** The tool to return to after a temporary pan (Space held). */
  heldFrom: ToolName | null;
  brush: { size: number; hardness: number };
  settings: GenerationSettings;
  engines: EngineInfo[];
  jobs: Record<string, JobView>;
  jobOrder: string[];
  /** Job whose progress and preview show inside the box. */
  activeJob: string | null;
  staging: { items: StagedResult[]; index: number };
  errors: ErrorNote[];
  connection: "connecting" | "open" | "reconnecting";
  queue: { pending: number; running: number } | null;
  history: { canUndo: boolean; canRedo: boolean };
  pointer: { x: number; y: number } | null;
}

export type Patch = Partial<AppState>;

export function initialState(): AppState {
  return {
    picture: null,
    mask: { visible: true, version: 0 },
    bbox: { x: 0, y: 0, width: 512, height: 512 },
    viewport: { x: 0, y: 0, zoom: 1 },
    screen: { width: 800, height: 600 },
    tool: "brush",
    heldFrom: null,
    brush: { size: 48, hardness: 0.8 },
    settings: { ...DEFAULT_SETTINGS },
    engines: [],
    jobs: {},
    jobOrder: [],
    activeJob: null,
    staging: { items: [], index: 0 },
    errors: [],
    connection: "connecting",
    queue: null,
    history: { canUndo: false, canRedo: false },
    pointer: null,
  };
}

export function currentEngine(state: AppState): EngineInfo | undefined {
  return state.engines.find((e) => e.name === state.settings.engine);
}

export function engineGrid(state: AppState): number {
  return currentEngine(state)?.grid ?? 1;
}

/** The job whose progress and preview show in the box: the one running now, else the latest invoked. */
export function boxJob(state: AppState): JobView | null {
  const running = state.jobOrder.map((id) => state.jobs[id]).find((j) => j?.status === "running");
  return running ?? (state.activeJob ? (state.jobs[state.activeJob] ?? null) : null);
}

export function currentStaged(state: AppState): StagedResult | null {
  return state.staging.items[state.staging.index] ?? null;
}

/** A tiny store: one state object, patches merged shallowly, listeners told after each change. */
export class Store {
  private listeners = new Set<(state: AppState, previous: AppState) => void>();

  constructor(private current: AppState) {}

  get state(): AppState {
    return this.current;
  }

  apply(patch: Patch | null | undefined): void {
    if (!patch || Object.keys(patch).length === 0) return;
    const previous = this.current;
    this.current = { ...previous, ...patch };
    for (const listener of this.listeners) listener(this.current, previous);
  }

  subscribe(listener: (state: AppState, previous: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

let noteCounter = 0;

/** A patch that adds an error message shown to the user. */
export function withError(state: AppState, message: string): Patch {
  return { errors: [...state.errors.slice(-4), { id: ++noteCounter, message }] };
}

export function updateJob(state: AppState, id: string, change: Partial<JobView>): Patch {
  const job = state.jobs[id];
  if (!job) return {};
  return { jobs: { ...state.jobs, [id]: { ...job, ...change } } };
}
