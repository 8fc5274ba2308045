// Off the main thread: read the pixels of picture layers and write them as PNG (with EXIF, ICC and text
// chunks). The page hands over ImageBitmaps (cheap snapshots of its canvases) and gets bytes back, so
// encoding a 4096² picture never stalls painting, panning or clicks.

import { encodePng, withExtras } from "../png";
import type { EncodeReply, EncodeRequest } from "../encoder";

function pixels(request: EncodeRequest): Uint8ClampedArray<ArrayBuffer> {
  const { width, height } = request;
  const canvas = new OffscreenCanvas(Math.max(1, width), Math.max(1, height));
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  for (const layer of request.layers) {
    ctx.globalAlpha = layer.opacity;
    ctx.drawImage(layer.bitmap, 0, 0);
    layer.bitmap.close();
  }
  return ctx.getImageData(0, 0, width, height, { colorSpace: "srgb" }).data;
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

self.onmessage = (event: MessageEvent<EncodeRequest>) => {
  encode(event.data).then(
    (reply) => self.postMessage(reply, { transfer: "bytes" in reply ? [reply.bytes.buffer] : [] }),
    (error: unknown) => self.postMessage({ id: event.data.id, error: String(error) }),
  );
};
