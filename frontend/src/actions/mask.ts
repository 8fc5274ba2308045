import type { Action } from "./types";

export const maskActions: Action[] = [
  {
    name: "mask.toggle",
    undo: "none",
    label: "Show/hide mask",
    keys: ["m"],
    perform: (s) => ({ mask: { ...s.mask, visible: !s.mask.visible } }),
  },
  {
    name: "paint.clear",
    undo: "records",
    label: "Clear paint",
    keys: [],
    enabled: (s) => s.picture !== null,
    perform: (s, ctx) => {
      ctx.services.clearPaint();
      return { paint: { ...s.paint, version: s.paint.version + 1 } };
    },
  },
  {
    name: "mask.invert",
    undo: "records",
    label: "Invert mask",
    keys: ["shift+i"],
    enabled: (s) => s.picture !== null,
    perform: (s, ctx) => {
      ctx.services.invertMask();
      return { mask: { ...s.mask, version: s.mask.version + 1 } };
    },
  },
  {
    name: "mask.clear",
    undo: "records",
    label: "Clear mask",
    keys: ["shift+c"],
    enabled: (s) => s.picture !== null,
    perform: (s, ctx) => {
      ctx.services.clearMask();
      return { mask: { ...s.mask, version: s.mask.version + 1 } };
    },
  },
];
