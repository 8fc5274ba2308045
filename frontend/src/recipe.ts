// Recipes (what a result was made with; the server writes only what applied): turned back into settings.

import type { Rect } from "./geometry";
import { withEngine } from "./jobs";
import { INFILL_METHODS, type AppState, type GenerationSettings, type InfillMethod, type Patch, type RecallOffer, type ScaleMode } from "./state";

/** Where an accepted result's box lay in the document (kept with its recipe in history; the server's
 * `bbox` is in the job's picture, which for an outpainting is the box's own crop). */
const CANVAS_BOX = "canvas_box";

/** The recipe of a result accepted into `box` (document coordinates). */
export function withCanvasBox(recipe: unknown, box: Rect): Record<string, unknown> | undefined {
  if (!recipe || typeof recipe !== "object") return undefined;
  return { ...(recipe as Record<string, unknown>), [CANVAS_BOX]: { x: box.x, y: box.y, width: box.width, height: box.height } };
}

/** A recipe as a download carries it: its box (`bbox`) in the downloaded picture's pixels, whose top left
 * corner is at `origin` in the document. */
export function recipeForDownload(recipe: Record<string, unknown>, origin: { x: number; y: number }): Record<string, unknown> {
  const { [CANVAS_BOX]: box, ...rest } = recipe;
  if (!isRect(box)) return rest;
  return { ...rest, bbox: { x: box.x - origin.x, y: box.y - origin.y, width: box.width, height: box.height } };
}

/** The box a recipe names (in its picture's pixels), or null. */
export function recallBox(recipe: Record<string, unknown>): Rect | null {
  return isRect(recipe.bbox) ? { x: recipe.bbox.x, y: recipe.bbox.y, width: recipe.bbox.width, height: recipe.bbox.height } : null;
}

function isRect(v: unknown): v is Rect {
  if (!v || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return ["x", "y", "width", "height"].every((k) => typeof r[k] === "number" && Number.isFinite(r[k])) && (r.width as number) > 0 && (r.height as number) > 0;
}

/** Recalling an offer: its settings (an engine this server lacks keeps the current one; the rest still
 * applies), its box over the open picture, and a seed that is fixed says so (see GenerationPanel). */
export function recallPatch(state: AppState, offer: RecallOffer): Patch {
  const wanted = { ...state.settings, ...offer.settings };
  const engine = state.engines.find((e) => e.name === wanted.engine);
  // withEngine resets model settings to the engine's defaults: the recipe's own values win
  const { steps, guidance, scheduler } = offer.settings;
  const own = Object.fromEntries(Object.entries({ steps, guidance, scheduler }).filter(([, v]) => v !== undefined));
  const settings = engine ? { ...withEngine(wanted, engine), ...own } : { ...wanted, engine: state.settings.engine };
  const patch: Patch = { settings, recall: null };
  const picture = state.picture?.bounds;
  if (offer.box && picture) patch.bbox = { ...offer.box, x: picture.x + offer.box.x, y: picture.y + offer.box.y };
  return patch;
}

/** The settings a recipe names, for recall (unknown or out-of-range values are left out). */
export function recallSettings(recipe: Record<string, unknown>): Partial<GenerationSettings> {
  const out: Partial<GenerationSettings> = {};
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  if (str(recipe.engine)) out.engine = str(recipe.engine);
  if (str(recipe.prompt) !== undefined) out.prompt = str(recipe.prompt);
  if (str(recipe.negative_prompt) !== undefined) out.negativePrompt = str(recipe.negative_prompt);
  if (num(recipe.steps) !== undefined) out.steps = num(recipe.steps);
  if (num(recipe.guidance) !== undefined) out.guidance = num(recipe.guidance);
  if (num(recipe.strength) !== undefined) out.strength = num(recipe.strength);
  if (str(recipe.scheduler)) out.scheduler = str(recipe.scheduler);
  if (num(recipe.seed) !== undefined) {
    out.seedMode = "fixed";
    out.seed = num(recipe.seed);
  }
  const infill = recipe.infill as Record<string, unknown> | undefined;
  if (infill && INFILL_METHODS.includes(infill.method as InfillMethod)) out.infill = infill.method as InfillMethod;
  if (infill && str(infill.color)) out.infillColor = str(infill.color);
  if (infill && num(infill.tile_size) !== undefined) out.tileSize = num(infill.tile_size);
  const scale = recipe.scale as Record<string, unknown> | undefined;
  if (scale && ["auto", "manual", "none"].includes(String(scale.mode))) out.scaleMode = scale.mode as ScaleMode;
  if (scale && num(scale.width) !== undefined) out.scaleWidth = num(scale.width);
  if (scale && num(scale.height) !== undefined) out.scaleHeight = num(scale.height);
  if (num(recipe.feather) !== undefined) out.feather = num(recipe.feather);
  if (num(recipe.grow) !== undefined) out.grow = num(recipe.grow);
  if (typeof recipe.color_match === "boolean") out.colorMatch = recipe.color_match;
  if (typeof recipe.tone_match === "boolean") out.toneMatch = recipe.tone_match;
  if (typeof recipe.seam_pass === "boolean") out.seamPass = recipe.seam_pass;
  return out;
}
