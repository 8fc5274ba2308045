// Fills and seam repairs: sending the job (the picture and mask already uploaded in the background),
// accepting a staged result into the picture, cancelling.

import { describeError, type SeamsJobCreate } from "../api/client";
import type { Encoder } from "../encoder";
import { contains, inflate, intersect, type Rect } from "../geometry";
import { cropRgba } from "../history";
import { buildJob, newJob, withNewJob } from "../jobs";
import type { Layers } from "../layers";
import { withCanvasBox } from "../recipe";
import { regionMask, regionOf, seamEngines, type FilledRegion } from "../seams";
import { currentEngine, currentStaged, withError, type AppState, type Patch } from "../state";
import type { ResultCache } from "./results";
import type { Deps, Services } from "./types";
import { integerBox, pictureSources, type MaskUploads, type PictureUploads } from "./uploads";

/** What a fill of `box` fills (see `seams.filledRegion`): the mask inside the box and the pixels without
 * content, grown by `grow`. Inside the picture, empty pixels up to `grow` outside the box grow into it too.
 * The layers are snapshotted at the call; the work (whole-picture reads at 4096²) runs in the worker. */
function fillRegion(encoder: Encoder, layers: Layers, box: Rect, inside: boolean, grow: number): Promise<FilledRegion | null> {
  const bounds = layers.pictureBounds();
  const area = inside ? (intersect(inflate(box, grow), bounds) ?? box) : box;
  return encoder.region({ canvas: layers.mask, bounds }, { canvas: layers.picture, bounds }, area, box, grow);
}

export function makeFillServices(deps: Deps, results: ResultCache, uploads: { picture: PictureUploads; mask: MaskUploads }): Pick<Services, "invoke" | "repairSeams" | "accept" | "cancel"> {
  const { store, api, socket, layers, history, encoder } = deps;
  /** The regions of fills just sent, while the worker still works them out (by job id). */
  const pendingRegions = new Map<string, Promise<FilledRegion | null>>();

  async function submit(state: AppState): Promise<Patch | null> {
    if (!state.picture) return withError(state, "Open a picture first.");
    const box = integerBox(state.bbox);
    const bounds = layers.pictureBounds();
    const engine = currentEngine(state);
    const inside = contains(bounds, box);
    performance.mark("invoke:start");
    // usually already on the server: uploaded in the background after the last stroke
    const maskId = await uploads.mask.current(state);
    // checked here, before the job is sent: inside the picture there is nothing to fill
    if (maskId === null && inside) {
      return withError(store.state, "Nothing to fill: paint over what should change (B), or move the box past the picture's edge to outpaint.");
    }
    let body;
    let source: Rect;
    if (inside) {
      // the picture is already on the server (or on its way): name it with the box
      const image = await uploads.picture.current(state);
      const bbox = { x: box.x - bounds.x, y: box.y - bounds.y, width: box.width, height: box.height };
      body = { ...buildJob(state.settings, engine, image, maskId!, false), bbox };
      source = bbox;
    } else {
      // outpainting: the box reaches past the picture, so its crop (with empty pixels) goes up
      const crop = await encoder.encode(pictureSources(state, layers), box, 4);
      const image = await api.uploadImage(new Blob([crop.bytes], { type: "image/png" }), `${state.picture.name}-crop.png`);
      body = buildJob(state.settings, engine, image.id, maskId ?? undefined, true);
      source = { x: 0, y: 0, width: box.width, height: box.height };
    }
    // what it fills, as the server will: kept with the result for "Repair seams" and the boundary highlight
    // (the layers as they are now, worked out off this thread while the job is sent)
    const filling = fillRegion(encoder, layers, box, inside, state.settings.grow);
    performance.mark("invoke:send");
    const accepted = await api.createJob(body);
    performance.mark("invoke:queued");
    const job = newJob(accepted.id, state.settings.engine, box, accepted.position ?? null, source);
    if (state.settings.scaleMode === "manual") job.workingSize = { width: state.settings.scaleWidth, height: state.settings.scaleHeight };
    pendingRegions.set(accepted.id, filling);
    void filling.then(
      (filled) => {
        const now = store.state.jobs[accepted.id];
        if (filled && now) store.apply({ jobs: { ...store.state.jobs, [accepted.id]: { ...now, filled } } });
      },
      () => undefined, // no region: "Repair seams" says there is no fill to repair
    ).finally(() => pendingRegions.delete(accepted.id));
    store.apply(withNewJob(store.state, job));
    socket.subscribe([accepted.id]);
    return null;
  }

  /** A `seams` job over the picture as it is now: along the edge of what the last accepted result filled,
   * or (`painted`) along the middle of the mask painted over a seam. Its result is staged like a fill's. */
  async function submitSeams(state: AppState, painted: boolean): Promise<Patch | null> {
    if (!state.picture) return withError(state, "Open a picture first.");
    const bounds = layers.pictureBounds();
    const region = painted ? regionOf(layers.readMask(bounds), bounds, true) : history.lastFilled();
    if (!region) {
      return withError(
        state,
        painted
          ? "Nothing painted: paint over the seam with the mask brush (B), then repair the painted seam."
          : "No fill to repair: accept a fill first; Repair seams works along the edge of the last accepted result.",
      );
    }
    const { seamEngine, seamBand: band, seamPasses: passes, seamTarget: target } = state.settings;
    const engine = seamEngines(state.engines).includes(seamEngine) ? seamEngine : "poisson";
    // only the band around the region (and the region itself) may change: the result is staged there
    const box = intersect(region.painted ? region.rect : inflate(region.rect, band + 1), bounds);
    if (!box) return withError(state, "The region to repair lies outside the picture now.");
    const [image, mask] = await Promise.all([uploads.picture.current(state), uploadRegion(region, bounds, state.picture.name)]);
    const body: SeamsJobCreate = {
      kind: "seams",
      image,
      mask,
      engine,
      band,
      passes,
      target,
      painted: Boolean(region.painted),
      seed: state.settings.seedMode === "fixed" ? state.settings.seed : -1,
    };
    const accepted = await api.createJob(body);
    const source = { x: box.x - bounds.x, y: box.y - bounds.y, width: box.width, height: box.height };
    // the repair keeps the region: accepted, it can be repaired again
    const job = { ...newJob(accepted.id, `seams · ${engine}`, box, accepted.position ?? null, source), filled: region };
    store.apply(withNewJob(store.state, job));
    socket.subscribe([accepted.id]);
    return null;
  }

  /** The region as a picture-sized grey mask on the server. */
  async function uploadRegion(region: FilledRegion, bounds: Rect, name: string): Promise<string> {
    const alpha = regionMask(region, bounds);
    const canvas = document.createElement("canvas");
    canvas.width = bounds.width;
    canvas.height = bounds.height;
    const ctx = canvas.getContext("2d")!;
    const image = ctx.createImageData(bounds.width, bounds.height);
    for (let i = 0; i < alpha.length; i++) image.data[i * 4 + 3] = alpha[i];
    ctx.putImageData(image, 0, 0);
    const png = await encoder.encode([{ canvas, bounds }], bounds, 1);
    canvas.width = canvas.height = 0;
    return (await api.uploadImage(new Blob([png.bytes], { type: "image/png" }), `${name}-seam.png`)).id;
  }

  return {
    async repairSeams(state: AppState, painted: boolean): Promise<Patch | null> {
      if (state.submitting) return null;
      store.apply({ submitting: true });
      try {
        return await submitSeams(state, painted);
      } catch (error) {
        return withError(store.state, `Repair seams failed: ${describeError(error)}`);
      } finally {
        store.apply({ submitting: false });
      }
    },

    async invoke(state: AppState): Promise<Patch | null> {
      if (state.submitting) return null;
      store.apply({ submitting: true });
      try {
        return await submit(state);
      } catch (error) {
        return withError(store.state, `Invoke failed: ${describeError(error)}`);
      } finally {
        store.apply({ submitting: false });
      }
    },

    async accept(state: AppState): Promise<Patch | null> {
      const staged = currentStaged(state);
      if (!staged || !state.picture) return null;
      const bitmap = await results.ready(staged);
      await pendingRegions.get(staged.jobId)?.catch(() => null); // what it filled, if still being worked out
      const now = store.state;
      // the result on show must still be the one asked for (a second Enter, a discard meanwhile)
      if (!bitmap || !now.picture || currentStaged(now)?.jobId !== staged.jobId) return null;
      const item = now.staging.items.find((i) => i.jobId === staged.jobId);
      const job = now.jobs[staged.jobId];
      // the server's recipe names only what applied to the result (`pipeline.applied`)
      const recipe = withCanvasBox(item?.recipe, staged.box);
      const box = staged.box;
      const bounds = layers.pictureBounds();
      // the result carries the paint that was under it: the paint layer is cleared there; and the mask inside
      // the box is done with: cleared, so that it neither returns with the next mask nor fills again
      const paintRect = layers.paint ? intersect(box, bounds) : null;
      const maskRect = intersect(box, bounds);
      // what undo keeps, worked out in the worker from snapshots taken now (a 4096² box is 64 MB to read
      // and compare: on this thread that froze the page)
      const inside = contains(bounds, box);
      const undo = await encoder.acceptUndo(
        { canvas: layers.picture, bounds },
        layers.paint ? { canvas: layers.paint, bounds } : null,
        maskRect ? { source: { canvas: layers.mask, bounds }, rect: maskRect } : null,
        box,
        bitmap,
        inside,
      );
      const after = store.state;
      // nothing else may have changed the picture or the staging meanwhile
      if (!after.picture || after.picture.version !== now.picture.version || currentStaged(after)?.jobId !== staged.jobId) return null;
      const rect = { x: box.x + undo.rect.x, y: box.y + undo.rect.y, width: undo.rect.width, height: undo.rect.height };
      // the paint as it was inside the picture (the snapshot covers the whole box)
      const paint = paintRect && undo.paint ? { rect: paintRect, rgba: paintRect.width === box.width && paintRect.height === box.height ? undo.paint : cropRgba(undo.paint, box.width, { ...paintRect, x: paintRect.x - box.x, y: paintRect.y - box.y }) } : undefined;
      const mask = maskRect && undo.mask ? { rect: maskRect, packed: undo.mask } : undefined;
      if (paintRect) layers.clearPaint(paintRect);
      if (mask) layers.clearMask(mask.rect);
      layers.merge(box, bitmap);
      history.push({ kind: "picture", label: "Accept result", rect, bounds, rgba: undo.before, recipe, paint, mask, filled: job?.filled });
      return {
        picture: { ...after.picture, bounds: layers.pictureBounds(), version: after.picture.version + 1 },
        mask: { ...after.mask, version: after.mask.version + 1 },
        paint: paint ? { ...after.paint, version: after.paint.version + 1 } : after.paint,
        staging: { items: [], index: 0 },
        activeJob: null,
        before: false,
      };
    },

    async cancel(_state: AppState, jobId: string): Promise<Patch | null> {
      try {
        await api.cancelJob(jobId);
        return null; // the job.canceled event updates the queue
      } catch (error) {
        return withError(store.state, `Cancel failed: ${describeError(error)}`);
      }
    },
  };
}
