// The Select tool's work: a proposal from the server (`POST /select` on the picture already uploaded in the
// background) or from the magic wand here; adding it to the mask or taking it away (one undo step); and
// "Remove object" (add it, box it, invoke the fill).

import { describeError, type SelectCreate } from "../api/client";
import { clamp, intersect, type Rect } from "../geometry";
import { packRegion } from "../history";
import { alphaBounds, combine, countSet, magicWand, outlineImage, type Proposal, type ProposalPixels } from "../selection";
import { engineGrid, withError, type AppState, type Patch } from "../state";
import type { Deps, SelectServices } from "./types";
import type { PictureUploads } from "./uploads";

/** Room around a removed object that the fill sees, as a share of the object's longer side (at least 32 px). */
const REMOVE_CONTEXT = 0.25;
/** Fewer selected pixels than this is no object (a box drawn tight around one can leave a speck): Remove
 * object says so instead of filling a speck. */
const REMOVE_LEAST = 64;

export function makeSelectServices(
  deps: Deps,
  picture: PictureUploads,
  proposal: Proposal,
  invoke: (state: AppState) => Promise<Patch | null>,
): SelectServices {
  const { store, api, layers, history } = deps;
  let asked = 0; // the latest request wins: an older answer arriving late is dropped

  /** Show `pixels` as the proposal (cut to their bounds), or nothing. */
  function show(pixels: ProposalPixels | null, score: number | null): Patch {
    const now = store.state.select;
    const version = (now.proposal?.version ?? 0) + 1;
    const found = pixels ? alphaBounds(pixels.alpha, pixels.rect.width, pixels.rect.height) : null;
    if (!pixels || !found) {
      proposal.current = null;
      proposal.outline = null;
      return { select: { ...now, proposal: null, busy: false } };
    }
    const rect = { x: pixels.rect.x + found.x, y: pixels.rect.y + found.y, width: found.width, height: found.height };
    const alpha = new Uint8Array(rect.width * rect.height);
    for (let y = 0; y < found.height; y++) {
      const from = (found.y + y) * pixels.rect.width + found.x;
      alpha.set(pixels.alpha.subarray(from, from + found.width), y * found.width);
    }
    proposal.current = { rect, alpha };
    proposal.outline = outlineImage(proposal.current, store.state.viewport.zoom);
    return { select: { ...now, proposal: { bounds: rect, area: countSet(alpha), score, version }, busy: false } };
  }

  /** The mask the server answered, as alpha over the picture's bounds. */
  async function fetchMask(id: string, bounds: Rect): Promise<ProposalPixels> {
    const blob = await api.imageBlob(id);
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d")!;
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const alpha = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0, j = 0; i < alpha.length; i++, j += 4) alpha[i] = rgba[j];
    return { rect: { ...bounds, width: canvas.width, height: canvas.height }, alpha };
  }

  /** The wand's selection: each click adds (or, Alt, takes away) the colour connected to it. */
  function wand(state: AppState): ProposalPixels {
    const bounds = layers.pictureBounds();
    const rgba = layers.readPicture(bounds);
    let alpha: Uint8Array = new Uint8Array(bounds.width * bounds.height);
    for (const click of state.select.clicks) {
      const x = Math.floor(click.x - bounds.x);
      const y = Math.floor(click.y - bounds.y);
      alpha = combine(alpha, magicWand(rgba, bounds.width, bounds.height, x, y, state.select.tolerance), !click.positive);
    }
    return { rect: bounds, alpha };
  }

  function request(state: AppState, image: string): SelectCreate {
    const o = layers.pictureBounds();
    const body: SelectCreate = { image, model: state.select.model };
    const box = state.select.box ? intersect(state.select.box, o) : null;
    if (box) body.box = { x: box.x - o.x, y: box.y - o.y, width: box.width, height: box.height };
    body.points = state.select.clicks.map((c) => ({
      x: clamp(c.x - o.x, 0, o.width - 1),
      y: clamp(c.y - o.y, 0, o.height - 1),
      positive: c.positive,
    }));
    return body;
  }

  function apply(state: AppState, subtract: boolean): Patch | null {
    const pixels = proposal.current;
    if (!pixels || !state.picture) return null;
    const rect = intersect(pixels.rect, layers.pictureBounds());
    if (!rect) return null;
    const before = packRegion(layers, rect);
    const mask = layers.readMask(rect);
    const chosen = new Uint8Array(rect.width * rect.height);
    for (let y = 0; y < rect.height; y++) {
      const from = (rect.y - pixels.rect.y + y) * pixels.rect.width + (rect.x - pixels.rect.x);
      chosen.set(pixels.alpha.subarray(from, from + rect.width), y * rect.width);
    }
    layers.writeMask(rect, combine(mask, chosen, subtract));
    history.push({ kind: "mask", label: subtract ? "Subtract selection from mask" : "Add selection to mask", regions: [before] });
    proposal.current = null;
    proposal.outline = null;
    return {
      mask: { ...state.mask, version: state.mask.version + 1 },
      select: { ...state.select, clicks: [], box: null, proposal: null },
    };
  }

  return {
    async propose(state) {
      if (!state.picture) return withError(state, "Open a picture first.");
      const ticket = ++asked;
      if (state.select.clicks.length === 0 && !state.select.box) return show(null, null);
      if (state.select.mode === "wand") return show(wand(state), null);
      store.apply({ select: { ...store.state.select, busy: true } });
      try {
        const image = await picture.current(state);
        const found = await api.select(request(state, image));
        const pixels = await fetchMask(found.mask, layers.pictureBounds());
        if (ticket !== asked) return null;
        return show(pixels, found.score ?? null);
      } catch (error) {
        if (ticket !== asked) return null;
        return { ...withError(store.state, `Selecting failed: ${describeError(error)}`), select: { ...store.state.select, busy: false } };
      }
    },

    applySelection: apply,

    dropSelection(state) {
      asked++;
      proposal.current = null;
      proposal.outline = null;
      return { select: { ...state.select, clicks: [], box: null, dragging: null, proposal: null, busy: false } };
    },

    async removeObject(state) {
      const bounds = state.select.proposal?.bounds;
      const area = state.select.proposal?.area ?? 0;
      if (bounds && area < REMOVE_LEAST) {
        return withError(state, `Only ${area} px are selected, too little to remove: click on the object, or drag a box around it with some room to spare.`);
      }
      const added = apply(state, false);
      if (!added || !bounds || !state.picture) return withError(state, "Select an object first: click it or drag a box around it.");
      store.apply(added);
      // the box: the object with room around it, on the engine's grid, inside the picture where it fits
      const grid = engineGrid(store.state);
      const room = Math.max(32, Math.round(REMOVE_CONTEXT * Math.max(bounds.width, bounds.height)));
      const picture = layers.pictureBounds();
      const width = Math.min(Math.ceil((bounds.width + 2 * room) / grid) * grid, Math.floor(picture.width / grid) * grid || grid);
      const height = Math.min(Math.ceil((bounds.height + 2 * room) / grid) * grid, Math.floor(picture.height / grid) * grid || grid);
      const x = clamp(Math.round(bounds.x + bounds.width / 2 - width / 2), picture.x, picture.x + picture.width - width);
      const y = clamp(Math.round(bounds.y + bounds.height / 2 - height / 2), picture.y, picture.y + picture.height - height);
      history.push({ kind: "box", label: "Box around the selection", box: store.state.bbox });
      store.apply({ bbox: { x, y, width, height } });
      // a box of its own shape: a manual working size set for another box would stretch it, so the engine's own
      // size (auto) fills it; the setting itself stays for the user's next boxes
      const { settings } = store.state;
      return invoke(settings.scaleMode === "manual" ? { ...store.state, settings: { ...settings, scaleMode: "auto" } } : store.state);
    },
  };
}
