// Whole-picture jobs behind their actions: upscaling the open picture (its result replaces the picture,
// undoably, with the mask, paint and box scaled along) and fixing faces (find them, send the user's boxes,
// stage the result like any other). The picture is the one already uploaded in the background.

import { describeError, type JobCreate } from "../api/client";
import { facesBlocker } from "../blockers";
import { fitRect, scaleRect } from "../geometry";
import { buildFacesJob, buildUpscaleJob, newJob, withNewJob } from "../jobs";
import { readRecipe } from "../png";
import { currentEngine, faceEngines, withError, type AppState, type FaceBox, type JobKind } from "../state";
import type { Deps, PictureJobServices } from "./types";
import type { PictureUploads } from "./uploads";

export function makePictureJobs(deps: Deps, picture: PictureUploads): PictureJobServices {
  const { store, api, socket, layers, history, encoder } = deps;

  /** The picture without the paint layer: an upscale scales the paint as a layer of its own (the background
   * upload carries the visible paint, which the result would then hold twice). */
  async function bareUpload(state: AppState): Promise<string> {
    if (!layers.paint || !state.paint.visible) return picture.current(state);
    const bounds = layers.pictureBounds();
    const { exif, icc } = deps.meta.current;
    const png = await encoder.encode([{ canvas: layers.picture, bounds }], bounds, 4, { exif, icc });
    const image = await api.uploadImage(new Blob([png.bytes], { type: "image/png" }), `${state.picture?.name ?? "picture"}.png`);
    return image.id;
  }

  /** Kinds being sent now: a second click meanwhile sends nothing. */
  const sending = new Set<JobKind>();

  /** Send a whole-picture job and follow it in the queue, its progress shown over the whole picture. */
  async function start(state: AppState, kind: JobKind, engineLabel: string, body: JobCreate): Promise<void> {
    const bounds = layers.pictureBounds();
    const accepted = await api.createJob(body);
    const job = {
      ...newJob(accepted.id, engineLabel, bounds, accepted.position ?? null, { x: 0, y: 0, width: bounds.width, height: bounds.height }),
      kind,
      pictureVersion: state.picture?.version,
    };
    store.apply(withNewJob(store.state, job));
    socket.subscribe([accepted.id]);
  }

  return {
    async upscale(state) {
      if (!state.picture) return withError(state, "Open a picture first.");
      if (sending.has("upscale")) return null;
      sending.add("upscale");
      try {
        const image = await bareUpload(state);
        await start(state, "upscale", `upscale · ${state.upscale.model} ×${state.upscale.scale}`, buildUpscaleJob(state.upscale, image));
        return null;
      } catch (error) {
        return withError(store.state, `Upscale failed: ${describeError(error)}`);
      } finally {
        sending.delete("upscale");
      }
    },

    async finishUpscale(_state, jobId) {
      const job = store.state.jobs[jobId];
      if (!job?.resultImage) return null;
      let bitmap: ImageBitmap;
      let recipe: unknown;
      try {
        const blob = await api.imageBlob(job.resultImage);
        bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
        recipe = readRecipe(new Uint8Array(await blob.arrayBuffer())) ?? undefined;
      } catch (error) {
        return withError(store.state, `Could not load the upscaled picture: ${describeError(error)}`);
      }
      const now = store.state;
      if (!now.picture || now.picture.version !== job.pictureVersion || now.staging.items.length) {
        bitmap.close();
        return withError(now, "The picture changed while it was being upscaled, so it was not replaced; the upscaled picture is in the gallery.");
      }
      const old = layers.pictureBounds();
      const fx = bitmap.width / old.width;
      const fy = bitmap.height / old.height;
      const bounds = { x: Math.round(old.x * fx), y: Math.round(old.y * fy), width: bitmap.width, height: bitmap.height };
      // undo keeps the document as it was (picture, packed mask, paint if any, box): the smaller of the two sizes
      history.push({ kind: "document", label: "Upscale", pixels: layers.readAll(), box: now.bbox, recipe });
      layers.rescale(bounds, bitmap);
      bitmap.close();
      const faces = now.faces.boxes.map((b): FaceBox => ({ ...b, ...scaleRect(b, fx, fy) }));
      return {
        picture: { ...now.picture, bounds, version: now.picture.version + 1 },
        mask: { ...now.mask, version: now.mask.version + 1 },
        paint: { ...now.paint, version: now.paint.version + 1 },
        bbox: scaleRect(now.bbox, fx, fy),
        viewport: fitRect(bounds, now.screen.width, now.screen.height, 1),
        faces: { ...now.faces, boxes: faces },
        activeJob: null,
        dirty: true,
        // what can be undone now: set by the caller
      };
    },

    async findFaces(state) {
      if (!state.picture) return withError(state, "Open a picture first.");
      store.apply({ faces: { ...store.state.faces, finding: true } });
      try {
        const image = await picture.current(state);
        const found = await api.findFaces(image);
        const origin = layers.pictureBounds();
        const boxes: FaceBox[] = found.faces.map((f) => ({
          x: f.x + origin.x,
          y: f.y + origin.y,
          width: f.width,
          height: f.height,
          enabled: true,
          prompt: "",
          score: f.score,
        }));
        // the search answers for the picture it was given: the user's drawn boxes stay
        const drawn = store.state.faces.boxes.filter((b) => b.score === null);
        return {
          faces: { ...store.state.faces, boxes: [...boxes, ...drawn], finding: false, searched: { found: boxes.length, smallest: found.smallest_face } },
          tool: "faces",
          heldFrom: null,
        };
      } catch (error) {
        return { ...withError(store.state, `Finding faces failed: ${describeError(error)}`), faces: { ...store.state.faces, finding: false } };
      }
    },

    async fixFaces(state) {
      const blocker = facesBlocker(state);
      if (blocker) return withError(state, blocker);
      const engine = currentEngine(state);
      const redraw = engine && faceEngines(state).includes(engine) ? engine : undefined;
      if (sending.has("faces")) return null;
      sending.add("faces");
      try {
        const image = await picture.current(state);
        const body = buildFacesJob(state.settings, redraw, state.faces.restorer, state.faces.boxes, layers.pictureBounds(), image);
        const label = ["faces", redraw?.name, state.faces.restorer].filter(Boolean).join(" · ");
        await start(state, "faces", label, body);
        return null;
      } catch (error) {
        return withError(store.state, `Fix faces failed: ${describeError(error)}`);
      } finally {
        sending.delete("faces");
      }
    },
  };
}
