// The document and the app around it, as plain data. Pixels live in `Layers` (canvases); the state only
// names their bounds and a version that changes whenever their pixels do, so renderers know to redraw.

import type { EnginePublic, JobStatus as ServerJobStatus, LimitsPublic } from "./api/client";
import type { Rect, Viewport } from "./geometry";
import type { FilledRegion } from "./seams";

export type ToolName = "brush" | "eraser" | "paint" | "bbox" | "pan" | "faces" | "select";
export type InfillMethod = "patchmatch" | "blur" | "solid" | "tile" | "telea" | "navier-stokes";
export const INFILL_METHODS: InfillMethod[] = ["patchmatch", "blur", "solid", "tile", "telea", "navier-stokes"];
export type ScaleMode = "auto" | "manual" | "none";
export type JobStatus = ServerJobStatus;

/** An engine as the server describes it (`GET /engines`). */
export type EngineInfo = EnginePublic;

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
  /** Meet the picture's tone at the fill's edge with a smooth correction over the whole fill (`tone_match`). */
  toneMatch: boolean;
  /** Repair the seam along the fill's edge right after it (the fill's `seam_pass`). */
  seamPass: boolean;
  /** Seam repair (a `seams` job): engine (`poisson` or a fill engine), band, most passes, target score. */
  seamEngine: string;
  seamBand: number;
  seamPasses: number;
  seamTarget: number;
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
  toneMatch: false,
  seamPass: false,
  seamEngine: "poisson",
  seamBand: 8,
  seamPasses: 3,
  seamTarget: 0.9,
};

/** What a job does: a fill of the box, or a whole-picture workflow (upscale, faces). */
export type JobKind = "fill" | "upscale" | "faces";

export interface JobView {
  id: string;
  /** Left out for fills (documents saved before there were other kinds). */
  kind?: JobKind;
  /** What a whole-picture job is at, in the server's words ("face 2 of 3, step 12 of 30"). */
  stage?: string | null;
  /** The picture's version the job was made from (an upscale replaces only that picture). */
  pictureVersion?: number;
  /** The document it was sent from: its result is staged only there. */
  document?: string;
  status: JobStatus;
  engine: string;
  box: Rect;
  /** The working size a manual "scale before processing" asked for (the queue line names it). */
  workingSize?: { width: number; height: number };
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
  /** When it started running here (ms), for the time left. */
  startedAt: number | null;
  /** Where the box lies in the result picture: the whole picture comes back when the job named the
   * uploaded picture with a box; a crop comes back as itself. */
  source: Rect;
  /** What a seam repair did, in the server's words (its report's `outcome`); `unchanged`: nothing changed,
   * so nothing was staged. */
  outcome?: { text: string; unchanged: boolean };
  /** What the job fills (or, for a seam repair, the region whose seam it repairs): kept with the result
   * when it is accepted, for "Repair seams" and the boundary highlight. */
  filled?: FilledRegion;
}

export interface StagedResult {
  jobId: string;
  box: Rect;
  imageId: string;
  seed: number | null;
  recipe: unknown;
  /** The part of the result picture that covers `box` (see `JobView.source`). */
  source: Rect;
  /** The job's report (a fill's box and seam score, a repair's scores before and after). */
  report?: Record<string, unknown> | null;
  /** Fetched and decoded: it can be drawn. The count and the result on show change together. */
  ready?: boolean;
}

/** A past result on the server, as the gallery lists it. */
export interface GalleryItem {
  jobId: string;
  imageId: string;
  engine: string;
  finishedAt: string | null;
  /** The picture it was made from, when this browser made it. */
  picture: string | null;
}

/** A document kept in this browser, as the recent list shows it. */
export interface RecentDocument {
  id: string;
  name: string;
  width: number;
  height: number;
  /** Bytes it takes in storage (its layers as PNG and its undo history). */
  bytes: number;
  savedAt: number;
}

/** Settings a Retouch PNG carries, offered for recall when it is opened. */
export interface RecallOffer {
  name: string;
  settings: Partial<GenerationSettings>;
  /** The box it was made in, in the picture's pixels (a recall puts the box there). */
  box?: Rect;
}

/** A face box on the canvas (document coordinates), to fix or leave as it is. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  enabled: boolean;
  /** This face's own prompt; "" = the generation panel's. */
  prompt: string;
  /** The detector's confidence; null for a box the user drew. */
  score: number | null;
}

/** The faces found in the open picture and the user's corrections; never part of undo (like the staging). */
export interface FacesState {
  boxes: FaceBox[];
  /** A search is on its way. */
  finding: boolean;
  /** What the last search answered: how many it found and the smallest face it could see (null: none yet). */
  searched: { found: number; smallest: number } | null;
  /** Face restorer to run first ("" = none). */
  restorer: string;
}

/** The upscale panel's choice: `lanczos` or an upscaling model, and the factor. */
export interface UpscaleChoice {
  model: string;
  scale: number;
}

/** A click of the Select tool, in document coordinates: `positive` adds, otherwise it takes away. */
export interface SelectClick {
  x: number;
  y: number;
  positive: boolean;
}

/** The Select tool: what the user pointed at, and the proposal it gave (its pixels live in `Proposal`).
 * Never part of undo: only adding the proposal to the mask is. */
export interface SelectState {
  /** `object`: the server selects (GrabCut or a segment-anything model); `wand`: similar colour, here. */
  mode: "object" | "wand";
  model: string;
  /** The names the server offers (`GET /select/models`). */
  models: string[];
  /** Magic wand: how far (0-255, per channel) a colour may be from the clicked one. */
  tolerance: number;
  clicks: SelectClick[];
  box: Rect | null;
  /** The box being dragged out (screen feedback only). */
  dragging: Rect | null;
  /** The proposed selection: bounds and area; `version` changes with its pixels. */
  proposal: { bounds: Rect; area: number; score: number | null; version: number } | null;
  busy: boolean;
}

export interface ErrorNote {
  id: number;
  message: string;
  /** How many times it was said (the same message is shown once). */
  count: number;
  /** A connection error goes away when the server answers again. */
  connection?: boolean;
  /** What the note is about ("open", "field:feather"): a later success there takes it away (`settled`). */
  topic?: string;
}

export interface AppState {
  /** `id`: the document's (its place among the recent documents in this browser). */
  picture: { bounds: Rect; name: string; version: number; id?: string } | null;
  /** Documents kept in this browser besides the open one, newest first (IndexedDB, within a size budget). */
  recent: RecentDocument[];
  mask: { visible: boolean; version: number };
  /** The colour paint layer over the picture (sent with a job as part of the picture). */
  /** `picking`: the next click on the picture takes its colour (the eyedropper), then painting goes on. */
  paint: { visible: boolean; version: number; color: string; opacity: number; picking: boolean };
  pictureVisible: boolean;
  /** Show the picture without the staged result (before/after). */
  before: boolean;
  /** Preview grow and feather around the mask (while those settings are being set). */
  maskPreview: boolean;
  /** An invoke is on its way to the server (Invoke is disabled meanwhile). */
  submitting: boolean;
  /** The document changed since it was opened or last downloaded. */
  dirty: boolean;
  /** Counts strokes (mask or paint): saving and uploading follow it without a full redraw. */
  edits: number;
  gallery: { items: GalleryItem[]; loading: boolean; open: boolean };
  recall: RecallOffer | null;
  bbox: Rect;
  viewport: Viewport;
  screen: { width: number; height: number };
  tool: ToolName;
  /** The tool to return to after a temporary pan (Space held). */
  heldFrom: ToolName | null;
  brush: { size: number; hardness: number };
  settings: GenerationSettings;
  engines: EngineInfo[];
  /** What the server accepts (`GET /health`): a picture over them is refused or scaled down when opened. */
  limits: LimitsPublic | null;
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
  upscale: UpscaleChoice;
  faces: FacesState;
  /** Outline where the last fill's boundary runs (the staged result's, else the last accepted one's). */
  seamOutline: boolean;
  select: SelectState;
}

export type Patch = Partial<AppState>;

export function initialState(): AppState {
  return {
    picture: null,
    recent: [],
    mask: { visible: true, version: 0 },
    paint: { visible: true, version: 0, color: "#3a7bd5", opacity: 1, picking: false },
    pictureVisible: true,
    before: false,
    maskPreview: false,
    submitting: false,
    dirty: false,
    edits: 0,
    gallery: { items: [], loading: false, open: false },
    recall: null,
    bbox: { x: 0, y: 0, width: 512, height: 512 },
    viewport: { x: 0, y: 0, zoom: 1 },
    screen: { width: 800, height: 600 },
    tool: "brush",
    heldFrom: null,
    brush: { size: 48, hardness: 0.8 },
    settings: { ...DEFAULT_SETTINGS },
    engines: [],
    limits: null,
    jobs: {},
    jobOrder: [],
    activeJob: null,
    staging: { items: [], index: 0 },
    errors: [],
    connection: "connecting",
    queue: null,
    history: { canUndo: false, canRedo: false },
    pointer: null,
    upscale: { model: "lanczos", scale: 2 },
    faces: { boxes: [], finding: false, searched: null, restorer: "" },
    seamOutline: false,
    select: { mode: "object", model: "grabcut", models: ["grabcut"], tolerance: 32, clicks: [], box: null, dragging: null, proposal: null, busy: false },
  };
}

export function currentEngine(state: AppState): EngineInfo | undefined {
  return state.engines.find((e) => e.name === state.settings.engine);
}

/** Engines that can redraw a face (the diffusion models: they take a strength), for the faces job. */
export function faceEngines(state: AppState): EngineInfo[] {
  return state.engines.filter((e) => (e.purpose ?? "inpainting") === "inpainting" && (e.parameters ?? []).includes("strength"));
}

export function faceRestorers(state: AppState): EngineInfo[] {
  return state.engines.filter((e) => e.purpose === "face-restoration");
}

export function upscalers(state: AppState): EngineInfo[] {
  return state.engines.filter((e) => e.purpose === "upscaling");
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

/** A patch that adds an error message shown to the user. The same message again counts up the one
 * shown; at most three show at once (the oldest go). */
export function withError(state: AppState, message: string, connection = false, topic?: string): Patch {
  const same = state.errors.find((e) => e.message === message);
  if (same) {
    return { errors: [...state.errors.filter((e) => e !== same), { ...same, id: ++noteCounter, count: same.count + 1 }] };
  }
  return { errors: [...state.errors.slice(-2), { id: ++noteCounter, message, count: 1, connection, topic }] };
}

/** A patch that takes away the notes about `topic` (what they said went right since), or nothing. */
export function settled(state: AppState, topic: string): Patch {
  return state.errors.some((e) => e.topic === topic) ? { errors: state.errors.filter((e) => e.topic !== topic) } : {};
}

export function updateJob(state: AppState, id: string, change: Partial<JobView>): Patch {
  const job = state.jobs[id];
  if (!job) return {};
  return { jobs: { ...state.jobs, [id]: { ...job, ...change } } };
}
