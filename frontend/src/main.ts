// Wires the parts together: state, actions and keys, renderer, tools, server connection, storage, DOM.

import { actionByName, historyFlags, runAction, type ActionName, type Context } from "./actions";
import { bindKeyboard, inTextField } from "./actions/keyboard";
import { Api, describeError } from "./api/client";
import { JobSocket } from "./api/socket";
import { Encoder } from "./encoder";
import { defaultBox, fitRect } from "./geometry";
import { History } from "./history";
import { applyEvent, isFinished } from "./jobs";
import { Layers, MASK_TINT } from "./layers";
import { NO_META } from "./metadata";
import { ask } from "./panels/ask";
import { loadGallery, rememberPicture } from "./panels/gallery";
import { ModelsPanel } from "./panels/models";
import { decode, DocumentStore, RECENT_BUDGET, type SavedDocument } from "./persist";
import { InteractiveScene } from "./render/interactiveScene";
import { redraw } from "./render/rules";
import { FrameScheduler } from "./render/scheduler";
import { StaticScene, type Overlays } from "./render/staticScene";
import { makePictureJobs } from "./services/pictureJobs";
import { makeSelectServices } from "./services/select";
import { Proposal } from "./selection";
import type { FilledRegion } from "./seams";
import { makeServices, maskUploads, openPicture, pictureUploads, ResultCache } from "./services";
import type { Deps } from "./services/types";
import { loadPersisted, savePersisted } from "./settings";
import { boxJob, currentStaged, engineGrid, initialState, Store, withError, type AppState, type ToolName } from "./state";
import { BboxTool } from "./tools/bbox";
import { BrushTool } from "./tools/brush";
import { FacesTool } from "./tools/faces";
import { PanTool } from "./tools/pan";
import { PointerRouter } from "./tools/router";
import { SelectTool } from "./tools/select";
import type { Tool } from "./tools/types";
import { Ui } from "./ui";
import "./style.css";

const stage = document.getElementById("stage")!;
const staticCanvas = document.getElementById("static-canvas") as HTMLCanvasElement;
const interactiveCanvas = document.getElementById("interactive-canvas") as HTMLCanvasElement;
const uploadInput = document.getElementById("upload-input") as HTMLInputElement;

// --- state -------------------------------------------------------------------------------------------
const base = initialState();
const persisted = loadPersisted(localStorage, base.brush);
const store = new Store({ ...base, settings: persisted.settings, brush: persisted.brush });
const layers = new Layers();
const history = new History(layers, undefined, { get: () => store.state.bbox, set: (bbox) => store.apply({ bbox }) });
const encoder = new Encoder();
const meta = { current: NO_META };

// --- rendering ---------------------------------------------------------------------------------------
const staticScene = new StaticScene(staticCanvas, layers);
/** Whose boundary the highlight shows: the staged result on show (while not looking before it), else the
 * last accepted result. */
function seamRegion(state: AppState): FilledRegion | null {
  const staged = currentStaged(state);
  const filled = staged && !state.before ? state.jobs[staged.jobId]?.filled : undefined;
  return filled ?? history.lastFilled();
}
const proposal = new Proposal();
const interactiveScene = new InteractiveScene(interactiveCanvas, seamRegion, () =>
  proposal.current && proposal.outline ? { image: proposal.outline, rect: proposal.current.rect } : null,
);
const previews = new Map<string, HTMLImageElement>();

function overlays(state: AppState): Overlays {
  const staged = currentStaged(state);
  if (staged) {
    const image = results.get(staged);
    if (image) return { staged: { image, box: staged.box }, preview: null };
  }
  const job = boxJob(state);
  if (job?.preview && !isFinished(job.status)) {
    const image = previews.get(job.id);
    if (image?.complete && image.naturalWidth) return { staged: null, preview: { image, box: job.box } };
  }
  return { staged: null, preview: null };
}

const scheduler = new FrameScheduler(
  (region) => staticScene.draw(store.state, overlays(store.state), region),
  () => interactiveScene.draw(store.state),
);

// --- server ------------------------------------------------------------------------------------------
// a server listening beyond loopback needs its token: given once as ?token=, kept for this tab
const url = new URL(location.href);
if (url.searchParams.has("token")) {
  sessionStorage.setItem("retouch.token", url.searchParams.get("token") ?? "");
  url.searchParams.delete("token");
  window.history.replaceState(null, "", url);
}
const token = sessionStorage.getItem("retouch.token") || null;
const api = new Api(token);
const session = sessionStorage.getItem("retouch.session") ?? crypto.randomUUID();
sessionStorage.setItem("retouch.session", session);
const socket = new JobSocket(
  JobSocket.defaultUrl(session, token),
  (event) => {
    if (event.type === "model.install") return models.onEvent(event.install);
    const jobId = "job_id" in event ? event.job_id : null;
    const before = jobId ? store.state.jobs[jobId]?.status : undefined;
    store.apply(applyEvent(store.state, event));
    const job = jobId ? store.state.jobs[jobId] : undefined;
    if (job && isFinished(job.status)) socket.forget(job.id);
    if (job?.status === "succeeded" && before !== "succeeded") void loadGallery(deps);
    // an upscale's picture replaces the open one as it arrives
    if (job?.kind === "upscale" && job.status === "succeeded" && before !== "succeeded") {
      void services.finishUpscale(store.state, job.id).then((patch) => store.apply(patch && { ...patch, history: historyFlags(history) }));
    }
  },
  (connection) => {
    const was = store.state.connection;
    store.apply({ connection });
    if (connection === "open") {
      // the server answers again: what said it could not be reached is out of date
      const errors = store.state.errors.filter((e) => !e.message.includes("cannot be reached"));
      if (errors.length !== store.state.errors.length) store.apply({ errors });
      if (was === "reconnecting" || store.state.engines.length === 0) void loadEngines();
      if (was === "reconnecting") void loadGallery(deps);
    }
  },
);

const models = new ModelsPanel(document.getElementById("models-panel")!, api, () => void loadEngines(), (message) =>
  store.apply(withError(store.state, message)),
);

const deps: Deps = {
  store,
  api,
  socket,
  layers,
  history,
  scheduler,
  encoder,
  meta,
  openDialog: () => uploadInput.click(),
  ask,
  keepDocument: async () => {
    await documents.keep(() => store.state);
    return documents.current;
  },
  opened: { current: null },
};
const results = new ResultCache(deps);
const uploads = { picture: pictureUploads(deps), mask: maskUploads(deps) };
const baseServices = makeServices(deps, results, uploads);
const services = {
  ...baseServices,
  ...makePictureJobs(deps, uploads.picture),
  ...makeSelectServices(deps, uploads.picture, proposal, (state) => baseServices.invoke(state)),
};
const context: Context = { history, services };
const documents = new DocumentStore(
  layers,
  history,
  encoder,
  meta,
  (message) => store.apply(withError(store.state, message)),
  (recent, dropped) => {
    store.apply({ recent });
    for (const gone of dropped) {
      const budget = `${Math.round(RECENT_BUDGET / 2 ** 20)} MB`;
      store.apply(withError(store.state, `"${gone.name}" was dropped from the recent documents: kept documents may take ${budget} in this browser, the oldest go first.`));
    }
  },
  RECENT_BUDGET,
  deps.opened,
);

async function loadEngines(): Promise<void> {
  void loadLimits();
  try {
    const engines = await api.engines();
    const s = store.state;
    const settings = engines.some((e) => e.name === s.settings.engine) ? s.settings : { ...s.settings, engine: engines[0]?.name ?? s.settings.engine };
    store.apply({ engines, settings });
    const selectors = await api.selectModels();
    const select = store.state.select;
    const model = selectors.models.includes(select.model) ? select.model : selectors.default;
    store.apply({ select: { ...select, models: selectors.models, model } });
  } catch (error) {
    store.apply(withError(store.state, `Could not load the engines: ${describeError(error)}`));
  }
}

/** The server's limits on pictures and uploads, checked when a picture is opened. */
async function loadLimits(): Promise<void> {
  try {
    const health = await api.health();
    store.apply({ limits: health.limits ?? null });
  } catch {
    // not known: a picture over them is refused by the server when it is sent, which the upload says
  }
}

// --- actions -----------------------------------------------------------------------------------------
function dispatch(name: ActionName): void {
  const action = actionByName(name);
  const state = store.state;
  if (action.enabled && !action.enabled(state)) return;
  const result = runAction(action, state, context);
  if (result instanceof Promise) {
    result.then((patch) => store.apply(patch)).catch((error: unknown) => store.apply(withError(store.state, describeError(error))));
  } else {
    store.apply(result);
  }
}

function holdBefore(down: boolean): void {
  if (down && store.state.staging.items.length === 0) return;
  if (store.state.before !== down) store.apply({ before: down });
}

const ui = new Ui(store, deps, {
  dispatch,
  cancel: (jobId) => void services.cancel(store.state, jobId).then((patch) => store.apply(patch)),
  switchDocument: (id) => void switchTo(id),
  dismissError: (id) => store.apply({ errors: store.state.errors.filter((e) => e.id !== id) }),
});
for (const [id, action] of [["#layer-paint-clear", "paint.clear"], ["#layer-mask-clear", "mask.clear"]] as const) {
  document.querySelector(id)?.addEventListener("click", () => dispatch(action));
}

// --- tools -------------------------------------------------------------------------------------------
const toolContext = { store, layers, history, scheduler };
const tools: Record<ToolName, Tool> = {
  brush: new BrushTool(toolContext, "brush"),
  eraser: new BrushTool(toolContext, "eraser"),
  paint: new BrushTool(toolContext, "paint"),
  bbox: new BboxTool(toolContext),
  pan: new PanTool(toolContext),
  faces: new FacesTool(toolContext),
  select: new SelectTool(toolContext, () => void services.propose(store.state).then((patch) => store.apply(patch))),
};
const router = new PointerRouter(interactiveCanvas, store, tools);

bindKeyboard(store, {
  dispatch,
  holdPan: (down) => {
    const s = store.state;
    if (down && s.tool !== "pan" && !router.busy) store.apply({ heldFrom: s.tool, tool: "pan" });
    if (!down && s.heldFrom) store.apply({ tool: s.heldFrom, heldFrom: null });
  },
  holdBefore,
});

// --- opening pictures: dialog, drop, paste -------------------------------------------------------------
function open(file: File, name: string): void {
  void openPicture(deps, file, name);
}
uploadInput.addEventListener("change", () => {
  const file = uploadInput.files?.[0];
  if (file) open(file, file.name);
  uploadInput.value = "";
});
stage.addEventListener("dragover", (event) => {
  event.preventDefault();
  stage.classList.add("dropping");
});
stage.addEventListener("dragleave", () => stage.classList.remove("dropping"));
stage.addEventListener("drop", (event) => {
  event.preventDefault();
  stage.classList.remove("dropping");
  const file = event.dataTransfer?.files?.[0];
  if (file) open(file, file.name);
});
window.addEventListener("paste", (event) => {
  if (inTextField(event.target)) return;
  const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
  if (file) {
    event.preventDefault();
    open(file, file.name || "pasted");
  }
});
// a change not yet stored would be lost by leaving now: the browser asks first
window.addEventListener("beforeunload", (event) => {
  if (documents.pending) event.preventDefault();
});

// --- size ----------------------------------------------------------------------------------------------
function resize(): void {
  const rect = stage.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(rect.width));
  const height = Math.max(1, Math.round(rect.height));
  for (const canvas of [staticCanvas, interactiveCanvas]) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  store.apply({ screen: { width, height } });
  scheduler.invalidateAll();
}
new ResizeObserver(resize).observe(stage);

// --- reacting to state -----------------------------------------------------------------------------------
let restoring = true;
store.subscribe((state, previous) => {
  if (state.settings !== previous.settings || state.brush !== previous.brush) savePersisted(localStorage, state);
  if (state.staging !== previous.staging) results.sync(state);
  redraw(state, previous, scheduler);
  if (state.tool !== previous.tool) router.toolChanged();
  else if (state.paint.picking !== previous.paint.picking) router.updateCursor();
  // a new engine may have another grid: keep the box on it
  if (state.settings.engine !== previous.settings.engine || state.engines !== previous.engines) {
    const grid = engineGrid(state);
    if (state.picture && grid > 1 && (state.bbox.width % grid || state.bbox.height % grid)) {
      store.apply({ bbox: defaultBox(state.picture.bounds, grid) });
    }
  }
  // live preview of the job running for the box
  const job = boxJob(state);
  if (job?.preview && previews.get(job.id)?.src !== job.preview) {
    const image = new Image();
    image.onload = () => scheduler.invalidateAll();
    image.src = job.preview;
    previews.clear();
    previews.set(job.id, image);
  }
  for (const id of state.jobOrder) {
    if (!previous.jobs[id] && state.picture) rememberPicture(id, state.picture.name);
  }
  if (!restoring) {
    uploads.picture.changed(state);
    uploads.mask.changed(state);
    if (
      state.picture !== previous.picture ||
      state.edits !== previous.edits ||
      state.paint !== previous.paint ||
      state.bbox !== previous.bbox ||
      state.staging !== previous.staging ||
      state.jobs !== previous.jobs ||
      state.history !== previous.history ||
      state.mask !== previous.mask ||
      state.pictureVisible !== previous.pictureVisible ||
      state.dirty !== previous.dirty
    ) {
      documents.changed(state, () => store.state);
    }
  }
  ui.update(state, previous);
});

/** The document from the last visit, as it was: layers, box, staged results, jobs, undo history. */
async function restore(): Promise<void> {
  const saved = await documents.load();
  if (saved) await show(saved, "Could not restore the last document");
  else void documents.recent().then((recent) => store.apply({ recent }));
}

/** Switch to a recent document: the open one is written first (it stays among the recent ones). */
async function switchTo(id: string): Promise<void> {
  if (id === documents.current) return;
  await documents.flush(() => store.state);
  const saved = await documents.load(id);
  if (!saved) {
    store.apply(withError(store.state, "That document is no longer kept in this browser."));
    return;
  }
  await show(saved, "Could not open that document");
}

/** Put a saved document on the page: layers, undo history, box, staged results, jobs. */
async function show(saved: SavedDocument, failure: string): Promise<void> {
  try {
    const [picture, mask, paint] = await Promise.all([
      decode(saved.picture),
      saved.mask ? encoder.maskLayer(saved.mask, MASK_TINT) : null,
      decode(saved.paint),
    ]);
    if (!picture) return;
    const m = saved.meta;
    layers.restore(m.bounds, picture, mask, paint);
    for (const bitmap of [picture, mask, paint]) bitmap?.close();
    if (saved.history) history.import(saved.history);
    meta.current = { exif: m.exif, icc: m.icc, texts: {} };
    deps.opened.current = null;
    const s = store.state;
    store.apply({
      picture: { bounds: m.bounds, name: m.name, version: (s.picture?.version ?? 0) + 1, id: documents.current },
      mask: { visible: m.maskVisible, version: s.mask.version + 1 },
      paint: { ...m.paint, picking: false, version: s.paint.version + 1 },
      pictureVisible: m.pictureVisible,
      bbox: m.bbox,
      viewport: fitRect(m.bounds, s.screen.width, s.screen.height, 1),
      staging: m.staging,
      jobs: m.jobs,
      jobOrder: m.jobOrder,
      activeJob: m.activeJob,
      dirty: m.dirty,
      history: { canUndo: history.canUndo, canRedo: history.canRedo },
      // what belongs to the picture that was open goes with it
      faces: { ...s.faces, boxes: [], searched: null },
      recall: null,
      before: false,
    });
    documents.restored(store.state);
    // jobs still on their way: the server tells their state again
    const open = m.jobOrder.filter((id) => m.jobs[id] && !isFinished(m.jobs[id].status));
    if (open.length) socket.subscribe(open);
  } catch (error) {
    store.apply(withError(store.state, `${failure}: ${describeError(error)}`));
  }
}

ui.update(store.state, null);
resize();
socket.connect();
void loadEngines();
void models.load();
void loadGallery(deps);
void restore().finally(() => {
  restoring = false;
  document.body.dataset.restored = "true";
  uploads.picture.changed(store.state);
  uploads.mask.changed(store.state);
});

// For automation and the benchmark: read-only views of what the page holds.
(window as unknown as { retouch: unknown }).retouch = {
  state: () => store.state,
  historyBytes: () => history.byteSize,
  onFrame: (listener: (t: number) => void) => scheduler.onFrame(listener),
  /** Resolves once the document is stored in this browser. */
  saved: () => documents.flush(() => store.state),
  /** Resolves once the picture as it is now is on the server. */
  uploaded: () => Promise.all([uploads.picture.current(store.state), uploads.mask.current(store.state)]),
};
