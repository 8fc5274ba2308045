// What the side effects are, apart from how they are done: the actions and the panels see these
// interfaces; the implementations live beside this file and are put together in main.ts.

import type { Api } from "../api/client";
import type { JobSocket } from "../api/socket";
import type { Encoder } from "../encoder";
import type { History } from "../history";
import type { Layers } from "../layers";
import type { PictureMeta } from "../metadata";
import type { FrameScheduler } from "../render/scheduler";
import type { AppState, Patch, Store } from "../state";

export interface Deps {
  store: Store;
  api: Api;
  socket: JobSocket;
  layers: Layers;
  history: History;
  scheduler: FrameScheduler;
  encoder: Encoder;
  /** EXIF and ICC of the picture as opened; written into downloads. */
  meta: { current: PictureMeta };
  openDialog: () => void;
  /** Before another picture takes the page: the open document is written in full (it stays among the
   * recent documents, with its undo); resolves with the id the new document is kept under. */
  keepDocument: () => Promise<string>;
  /** Asks a question with named answers in the page (a dialog); null when dismissed. */
  ask: <T extends string>(question: string, choices: { value: T; label: string }[]) => Promise<T | null>;
  /** The file the open picture came from, while its pixels are still those of the file: the background
   * upload sends it as it is (no decoding and encoding again). */
  opened: { current: OpenedFile | null };
}

export interface OpenedFile {
  file: Blob;
  /** The picture's version it holds (`AppState.picture.version`). */
  pictureVersion: number;
}

/** What actions with side effects reach: pixels through history, the server through services. */
export interface Services {
  invoke(state: AppState): Promise<Patch | null>;
  /** A seam repair along the last accepted fill's edge, or (`painted`) along the painted mask. */
  repairSeams(state: AppState, painted: boolean): Promise<Patch | null>;
  accept(state: AppState): Promise<Patch | null>;
  cancel(state: AppState, jobId: string): Promise<Patch | null>;
  download(state: AppState): Promise<Patch | null>;
  openDialog(): void;
  invertMask(): void;
  clearMask(): void;
  clearPaint(): void;
}

export interface PictureJobServices {
  upscale(state: AppState): Promise<Patch | null>;
  /** An upscale finished: its picture replaces the open one (one undo step). */
  finishUpscale(state: AppState, jobId: string): Promise<Patch | null>;
  findFaces(state: AppState): Promise<Patch | null>;
  fixFaces(state: AppState): Promise<Patch | null>;
}
