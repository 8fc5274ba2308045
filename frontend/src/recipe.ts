// Recipes (what a result was made with; the server writes only what applied): turned back into settings.

import { INFILL_METHODS, type GenerationSettings, type InfillMethod, type ScaleMode } from "./state";

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
  if (typeof recipe.seam_pass === "boolean") out.seamPass = recipe.seam_pass;
  return out;
}
