// Recipes (what a result was made with): keep only what applied to it, and turn one back into settings.

import type { EngineInfo, GenerationSettings } from "./state";
import { INFILL_METHODS, type InfillMethod, type ScaleMode } from "./state";

const MODEL_SETTINGS = ["steps", "guidance", "strength", "scheduler", "negative_prompt"];

/** `recipe` without the settings that did nothing for it: model settings an engine does not use, the
 * prompt for engines without one, infill where the box held no empty pixels, auto scale for engines
 * that work at the region's own size, the padding of an automatic box when the box was given. */
export function appliedRecipe(recipe: Record<string, unknown>, engines: EngineInfo[], emptyPixels: boolean): Record<string, unknown> {
  const engine = engines.find((e) => e.name === recipe.engine);
  const out = { ...recipe };
  const uses = new Set(engine?.parameters ?? MODEL_SETTINGS);
  for (const key of MODEL_SETTINGS) if (!uses.has(key)) delete out[key];
  if (engine && !engine.takes_prompt) {
    delete out.prompt;
    delete out.negative_prompt;
  }
  if (!emptyPixels) delete out.infill;
  const scale = out.scale as { mode?: string } | undefined;
  if (engine && !engine.native_size && scale?.mode === "auto") delete out.scale;
  if (out.bbox && typeof out.bbox === "object") delete out.padding;
  return out;
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
  if (typeof recipe.seam_pass === "boolean") out.seamPass = recipe.seam_pass;
  return out;
}
