// Wires the parts together: state, actions and hotkeys, renderer, tools, server connection, DOM.

import { ACTIONS, actionByName, type Context } from "./actions";
import { findAction, normalise } from "./actions/keys";
import { Api, describeError } from "./api/client";
import { JobSocket } from "./api/socket";
import { defaultBox, toDoc, zoomAt, type Point } from "./geometry";
import { History } from "./history";
import { applyEvent, isFinished } from "./jobs";
import { Layers } from "./layers";
import { InteractiveScene } from "./render/interactiveScene";
import { FrameScheduler } from "./render/scheduler";
import { StaticScene, type Overlays } from "./render/staticScene";
import { makeServices, openPicture, ResultCache, type Deps } from "./services";
import { loadPersisted, savePersisted } from "./settings";
import { boxJob, currentStaged, engineGrid, initialState, Store, withError, type AppState, type EngineInfo, type ToolName } from "./state";
import { BboxTool } from "./tools/bbox";
import { BrushTool } from "./tools/brush";
import { PanTool } from "./tools/pan";
import type { PointerInfo, Tool } from "./tools/types";
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
const history = new History(layers);

// --- rendering ---------------------------------------------------------------------------------------
const staticScene = new StaticScene(staticCanvas, layers);
const interactiveScene = new InteractiveScene(interactiveCanvas);
const previews = new Map<string, HTMLImageElement>();

function overlays(state: AppState): Overlays {
  const staged = currentStaged(state);
  if (staged) {
    const image = results.get(staged.imageId);
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
const api = new Api("/api/v1", token);
const session = sessionStorage.getItem("retouch.session") ?? crypto.randomUUID();
sessionStorage.setItem("retouch.session", session);
const socket = new JobSocket(
  JobSocket.defaultUrl(session, token),
  (event) => {
    const patch = applyEvent(store.state, event);
    store.apply(patch);
    if (event.job_id && store.state.jobs[event.job_id] && isFinished(store.state.jobs[event.job_id].status)) {
      socket.forget(event.job_id);
    }
  },
  (connection) => {
    const was = store.state.connection;
    store.apply({ connection });
    if (connection === "open" && (was === "reconnecting" || store.state.engines.length === 0)) void loadEngines();
  },
);

const deps: Deps = { store, api, socket, layers, history, scheduler, openDialog: () => uploadInput.click() };
const results = new ResultCache(deps);
const services = makeServices(deps, results);
const context: Context = { history, services };

async function loadEngines(): Promise<void> {
  try {
    const engines = (await api.engines()) as EngineInfo[];
    const s = store.state;
    const settings = engines.some((e) => e.name === s.settings.engine) ? s.settings : { ...s.settings, engine: engines[0]?.name ?? s.settings.engine };
    store.apply({ engines, settings });
  } catch (error) {
    store.apply(withError(store.state, `Could not load the engines: ${describeError(error)}`));
  }
}

// --- actions -----------------------------------------------------------------------------------------
function dispatch(name: string): void {
  const action = actionByName(name);
  const state = store.state;
  if (action.enabled && !action.enabled(state)) return;
  const result = action.perform(state, context);
  if (result instanceof Promise) {
    result.then((patch) => store.apply(patch)).catch((error) => store.apply(withError(store.state, describeError(error))));
  } else {
    store.apply(result);
  }
}

const ui = new Ui(store, {
  dispatch,
  cancel: (jobId) => {
    services.cancel(store.state, jobId).then((patch) => store.apply(patch));
  },
  dismissError: (id) => store.apply({ errors: store.state.errors.filter((e) => e.id !== id) }),
});

// --- tools -------------------------------------------------------------------------------------------
const toolContext = { store, layers, history, scheduler };
const tools: Record<ToolName, Tool> = {
  brush: new BrushTool(toolContext, false),
  eraser: new BrushTool(toolContext, true),
  bbox: new BboxTool(toolContext),
  pan: new PanTool(toolContext),
};
let gesture: { tool: Tool; pointerId: number } | null = null;
let lastPointer: PointerInfo | null = null;

function screenPoint(event: { clientX: number; clientY: number }): Point {
  const r = interactiveCanvas.getBoundingClientRect();
  return { x: event.clientX - r.left, y: event.clientY - r.top };
}

function pointerInfo(event: PointerEvent): PointerInfo {
  const screen = screenPoint(event);
  const v = store.state.viewport;
  const coalesced = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
  return {
    screen,
    doc: toDoc(v, screen),
    trail: coalesced.map((e) => toDoc(v, screenPoint(e))),
    shiftKey: event.shiftKey,
  };
}

function updateCursor(): void {
  const tool = gesture?.tool ?? tools[store.state.tool];
  interactiveCanvas.style.cursor = tool.cursor(lastPointer);
}

interactiveCanvas.addEventListener("pointerdown", (event) => {
  if (gesture) return;
  interactiveCanvas.focus({ preventScroll: true });
  const tool = event.button === 1 ? tools.pan : event.button === 0 ? tools[store.state.tool] : null;
  if (!tool) return;
  event.preventDefault();
  try {
    interactiveCanvas.setPointerCapture(event.pointerId);
  } catch {
    // a pointer the browser does not track (synthetic events): painting works without capture
  }
  gesture = { tool, pointerId: event.pointerId };
  lastPointer = pointerInfo(event);
  tool.down(lastPointer);
  updateCursor();
});

interactiveCanvas.addEventListener("pointermove", (event) => {
  const info = pointerInfo(event);
  lastPointer = info;
  store.apply({ pointer: info.screen });
  if (gesture && gesture.pointerId === event.pointerId) gesture.tool.move(info);
  else updateCursor();
});

function endGesture(event: PointerEvent): void {
  if (!gesture || gesture.pointerId !== event.pointerId) return;
  const info = pointerInfo(event);
  if (event.type === "pointerup") gesture.tool.up(info);
  else gesture.tool.cancel();
  gesture = null;
  updateCursor();
}
interactiveCanvas.addEventListener("pointerup", endGesture);
interactiveCanvas.addEventListener("pointercancel", endGesture);
interactiveCanvas.addEventListener("pointerleave", () => {
  if (!gesture) store.apply({ pointer: null });
});
interactiveCanvas.addEventListener("contextmenu", (event) => event.preventDefault());
interactiveCanvas.addEventListener(
  "wheel",
  (event) => {
    event.preventDefault();
    const anchor = screenPoint(event);
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    store.apply({ viewport: zoomAt(store.state.viewport, anchor, Math.exp(-delta * 0.0015)) });
  },
  { passive: false },
);

// --- keyboard ----------------------------------------------------------------------------------------
function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !["button", "checkbox", "range", "color", "file"].includes(target.type);
  return target.isContentEditable;
}

window.addEventListener("keydown", (event) => {
  const typing = inTextField(event.target);
  if (event.code === "Space" && !typing) {
    event.preventDefault();
    if (!event.repeat && store.state.tool !== "pan" && !gesture) store.apply({ heldFrom: store.state.tool, tool: "pan" });
    return;
  }
  const combo = normalise(event);
  const action = findAction(ACTIONS, combo);
  if (!action) return;
  if (typing && !action.inTextFields) return;
  if (event.target instanceof HTMLButtonElement && (combo === "enter" || combo === "space")) return;
  if (action.enabled && !action.enabled(store.state)) return;
  event.preventDefault();
  dispatch(action.name);
});

window.addEventListener("keyup", (event) => {
  if (event.code === "Space" && store.state.heldFrom) {
    store.apply({ tool: store.state.heldFrom, heldFrom: null });
  }
});

// --- opening pictures: dialog, drop, paste -------------------------------------------------------------
uploadInput.addEventListener("change", () => {
  const file = uploadInput.files?.[0];
  if (file) void openPicture(deps, file, file.name);
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
  if (file) void openPicture(deps, file, file.name);
});
window.addEventListener("paste", (event) => {
  if (inTextField(event.target)) return;
  const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
  if (file) {
    event.preventDefault();
    void openPicture(deps, file, file.name || "pasted");
  }
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
store.subscribe((state, previous) => {
  if (state.settings !== previous.settings || state.brush !== previous.brush) savePersisted(localStorage, state);
  if (state.staging !== previous.staging) results.sync(state);
  if (
    state.viewport !== previous.viewport ||
    state.picture !== previous.picture ||
    state.mask !== previous.mask ||
    state.staging !== previous.staging ||
    state.screen !== previous.screen ||
    state.activeJob !== previous.activeJob ||
    boxJob(state)?.preview !== boxJob(previous)?.preview
  ) {
    scheduler.invalidateAll();
  } else if (
    state.bbox !== previous.bbox ||
    state.tool !== previous.tool ||
    state.pointer !== previous.pointer ||
    state.brush !== previous.brush
  ) {
    scheduler.invalidateOverlay();
  }
  if (state.tool !== previous.tool) {
    gesture?.tool.cancel();
    gesture = null;
    updateCursor();
  }
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
  ui.update(state, previous);
});

ui.update(store.state, null);
resize();
socket.connect();
void loadEngines();

// For automation and the benchmark: read-only views of what the page holds.
(window as unknown as { retouch: unknown }).retouch = {
  state: () => store.state,
  historyBytes: () => history.byteSize,
  onFrame: (listener: (t: number) => void) => scheduler.onFrame(listener),
};
