// Off the main thread: read the pixels of picture layers and write them as PNG (with EXIF, ICC and text
// chunks). The page hands over ImageBitmaps (cheap snapshots of its canvases) and gets bytes back, so
// encoding a 4096² picture never stalls painting, panning or clicks.

import { encodePng, withExtras } from "../png";
import type { EncodeReply, EncodeRequest, MaskLayerRequest, RegionRequest, WorkerRequest } from "../encoder";
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

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const work =
    request.kind === "encode" ? encode(request) : request.kind === "region" ? Promise.resolve().then(() => region(request)) : maskLayer(request);
  work.then(
    (reply) =>
      self.postMessage(reply, {
        transfer: "bytes" in reply ? [reply.bytes.buffer] : "bitmap" in reply ? [reply.bitmap] : "region" in reply && reply.region ? [reply.region.packed.buffer] : [],
      }),
    (error: unknown) => self.postMessage({ id: event.data.id, error: String(error) }),
  );
};
