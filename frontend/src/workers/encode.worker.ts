// Off the main thread: read the pixels of picture layers and write them as PNG (with EXIF, ICC and text
// chunks). The page hands over ImageBitmaps (cheap snapshots of its canvases) and gets bytes back, so
// encoding a 4096² picture never stalls painting, panning or clicks.

import { encodePng, withExtras } from "../png";
import type { AcceptRequest, EncodeReply, EncodeRequest, MaskLayerRequest, RegionRequest, WorkerRequest } from "../encoder";
import { changedBounds, cropRgba } from "../history";
import { pack } from "../packbits";
import { filledRegion } from "../seams";

function pixels(request: EncodeRequest): Uint8ClampedArray<ArrayBuffer> {
  const { width, height } = request;
  const canvas = new OffscreenCanvas(Math.max(1, width), Math.max(1, height));
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  for (const layer of request.layers) {
    ctx.globalAlpha = layer.opacity;
    ctx.drawImage(layer.bitmap, 0, 0);
    layer.bitmap.close();
  }
  const data = ctx.getImageData(0, 0, width, height, { colorSpace: "srgb" }).data;
  canvas.width = canvas.height = 0; // give the pixels back now, not at the next collection
  return data;
}

async function maskLayer(request: MaskLayerRequest): Promise<EncodeReply> {
  const grey = await createImageBitmap(request.png, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const { width, height } = grey;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(grey, 0, 0);
  grey.close();
  const image = ctx.getImageData(0, 0, width, height, { colorSpace: "srgb" });
  const data = image.data;
  const [r, g, b] = request.tint;
  for (let j = 0; j < data.length; j += 4) {
    data[j + 3] = data[j]; // grey (opaque) -> alpha
    data[j] = r;
    data[j + 1] = g;
    data[j + 2] = b;
  }
  const bitmap = await createImageBitmap(image, { premultiplyAlpha: "premultiply" });
  canvas.width = canvas.height = 0;
  return { id: request.id, bitmap };
}

/** What undo keeps of an accepted result (see `Encoder.acceptUndo`). The result is read as the page's
 * canvas will hold it once drawn there (the same premultiplied round trip). */
function acceptUndo(request: AcceptRequest): EncodeReply {
  const { width, height } = request;
  const before = read(request.before);
  const paint = request.paint ? read(request.paint) : null;
  const mask = request.mask ? maskAlpha(read(request.mask)) : null;
  const all = { x: 0, y: 0, width, height };
  if (!request.crop) {
    request.result.close();
    return { id: request.id, undo: { rect: all, before, paint, mask } };
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(request.result, 0, 0, width, height);
  request.result.close();
  const after = ctx.getImageData(0, 0, width, height, { colorSpace: "srgb" }).data;
  canvas.width = canvas.height = 0;
  // undo keeps only the pixels the result changed (inside the feathered mask), not the whole box
  const changed = changedBounds(before, after, width, height);
  if (!changed) return { id: request.id, undo: { rect: all, before, paint, mask } }; // nothing changed: undo changes nothing
  return { id: request.id, undo: { rect: changed, before: cropRgba(before, width, changed), paint, mask } };
}

/** The mask layer's alpha, packed as history keeps masks; null where nothing is masked. */
function maskAlpha(rgba: Uint8ClampedArray): Uint8Array<ArrayBuffer> | null {
  const alpha = new Uint8Array(rgba.length / 4);
  let any = 0;
  for (let i = 0, j = 3; i < alpha.length; i++, j += 4) {
    alpha[i] = rgba[j];
    any |= rgba[j];
  }
  return any ? (pack(alpha) as Uint8Array<ArrayBuffer>) : null;
}

function read(bitmap: ImageBitmap): Uint8ClampedArray<ArrayBuffer> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height, { colorSpace: "srgb" }).data;
  canvas.width = canvas.height = 0;
  return data;
}

function region(request: RegionRequest): EncodeReply {
  const { area, painted, box, grow } = request;
  const mask = new Uint8Array(area.width * area.height);
  if (painted && request.mask) {
    const rgba = read(request.mask);
    for (let y = 0; y < painted.height; y++) {
      const row = (painted.y - area.y + y) * area.width + painted.x - area.x;
      for (let x = 0; x < painted.width; x++) mask[row + x] = rgba[(y * painted.width + x) * 4 + 3];
    }
  }
  return { id: request.id, region: filledRegion(area, mask, read(request.picture), box, grow) };
}

async function encode(request: EncodeRequest): Promise<EncodeReply> {
  const rgba = pixels(request);
  const { width, height } = request;
  if (request.channels === 4) {
    const png = await withExtras(await encodePng(rgba, width, height, 4), request.extras ?? {});
    return { id: request.id, bytes: png, empty: false };
  }
  // a mask: its alpha as grey, 255 = fill
  const grey = new Uint8Array(width * height);
  let any = 0;
  for (let i = 0, j = 3; i < grey.length; i++, j += 4) {
    grey[i] = rgba[j];
    any |= rgba[j];
  }
  return { id: request.id, bytes: await encodePng(grey, width, height, 1), empty: any === 0 };
}

function transferable(reply: EncodeReply): Transferable[] {
  if ("bytes" in reply) return [reply.bytes.buffer];
  if ("bitmap" in reply) return [reply.bitmap];
  if ("region" in reply) return reply.region ? [reply.region.packed.buffer] : [];
  if ("undo" in reply) {
    const { before, paint, mask } = reply.undo;
    return [before.buffer, ...(paint ? [paint.buffer] : []), ...(mask ? [mask.buffer] : [])];
  }
  return [];
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const work =
    request.kind === "encode"
      ? encode(request)
      : request.kind === "region"
        ? Promise.resolve().then(() => region(request))
        : request.kind === "accept"
          ? Promise.resolve().then(() => acceptUndo(request))
          : maskLayer(request);
  work.then(
    (reply) =>
      self.postMessage(reply, {
        transfer: transferable(reply),
      }),
    (error: unknown) => self.postMessage({ id: event.data.id, error: String(error) }),
  );
};
