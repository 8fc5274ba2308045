// Whole-layer edits of the mask and paint (invert, clear), recorded for undo.

import { packRegion } from "../history";
import type { Deps, Services } from "./types";

export function makePixelServices(deps: Deps): Pick<Services, "invertMask" | "clearMask" | "clearPaint"> {
  const { layers, history } = deps;
  return {
    invertMask(): void {
      layers.invertMask();
      history.push({ kind: "invert-mask", label: "Invert mask" });
    },

    clearMask(): void {
      const all = layers.pictureBounds();
      const before = packRegion(layers, all);
      layers.writeMask(all, new Uint8Array(all.width * all.height));
      history.push({ kind: "mask", label: "Clear mask", regions: [before] });
    },

    clearPaint(): void {
      if (!layers.paint) return;
      const all = layers.pictureBounds();
      const before = { rect: all, rgba: layers.readPaint(all) };
      layers.clearPaint();
      history.push({ kind: "paint", label: "Clear paint", regions: [before] });
    },
  };
}
