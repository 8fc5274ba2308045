// Side effects behind the actions, one file per kind of work: background uploads (uploads.ts), staged
// results (results.ts), fills, seam repairs and accepting (fills.ts), opening and downloading (files.ts),
// whole-layer mask and paint edits (pixels.ts), whole-picture jobs (pictureJobs.ts); interfaces in types.ts.

import { makeFileServices } from "./files";
import { makeFillServices } from "./fills";
import { makePixelServices } from "./pixels";
import type { ResultCache } from "./results";
import type { Deps, Services } from "./types";
import type { MaskUploads, PictureUploads } from "./uploads";

export function makeServices(deps: Deps, results: ResultCache, uploads: { picture: PictureUploads; mask: MaskUploads }): Services {
  return { ...makeFillServices(deps, results, uploads), ...makeFileServices(deps), ...makePixelServices(deps) };
}

export { openPicture } from "./files";
export { ResultCache } from "./results";
export { maskUploads, pictureSources, pictureUploads } from "./uploads";
