// Documents survive reloads and each other: picture, mask and paint (PNG, encoded off the main thread),
// box, staged results, jobs and the undo history go into IndexedDB a moment after they change, and come
// back when the page opens. Only what changed since the last save is written. Opening another picture
// keeps the open document among the recent ones, to switch back to as it was; past a size budget the
// oldest are dropped, saying so.

import type { Encoder } from "./encoder";
import type { Rect } from "./geometry";
import type { Entry, History } from "./history";
import type { Layers } from "./layers";
import type { PictureMeta } from "./metadata";
import type { AppState, JobView, RecentDocument, StagedResult } from "./state";

const DB_NAME = "retouch";
const STORE = "document";
const FORMAT = 2;

export interface SavedMeta {
  format: number;
  name: string;
  bounds: Rect;
  bbox: Rect;
  staging: { items: StagedResult[]; index: number };
  jobs: Record<string, JobView>;
  jobOrder: string[];
  activeJob: string | null;
  maskVisible: boolean;
  paint: AppState["paint"];
  pictureVisible: boolean;
  dirty: boolean;
  exif: PictureMeta["exif"];
  icc: PictureMeta["icc"];
}

export interface SavedDocument {
  meta: SavedMeta;
  picture: Blob;
  mask: Blob | null;
  paint: Blob | null;
  history: { undo: Entry[]; redo: Entry[] } | null;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("IndexedDB request failed"));
  });
}

function openDb(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB_NAME, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
  });
}

/** Bytes of all kept documents together; past it the oldest go first (the open one never). */
export const RECENT_BUDGET = 1024 * 1024 * 1024;
const PARTS = ["meta", "picture", "mask", "paint", "history"] as const;
/** The document saved before there were several: its parts under their plain names. */
const FIRST = "";
const key = (id: string, part: string) => (id === FIRST ? part : `${id}:${part}`);

interface Versions {
  picture: string;
  mask: string;
  paint: string;
  history: number;
}

export class DocumentStore {
  private db: Promise<IDBDatabase> | null = null;
  private saved: Versions | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  /** A change is waiting to be written (leaving now would lose it). */
  pending = false;
  /** The open document's id (FIRST until the first one with an id is opened). */
  private id = FIRST;
  /** Bytes each part of the open document took when last written. */
  private sizes: Record<string, number> = {};

  constructor(
    private readonly layers: Layers,
    private readonly history: History,
    private readonly encoder: Encoder,
    private readonly meta: { current: PictureMeta },
    private readonly onError: (message: string) => void,
    /** The recent documents changed (the open one first); `dropped` names those the budget let go. */
    private readonly onRecent: (recent: RecentDocument[], dropped: RecentDocument[]) => void = () => undefined,
    private readonly budget = RECENT_BUDGET,
    /** The file the picture was opened from, while its pixels are still the file's (kept as it is: no
     * 4096² encode when a picture is opened). */
    private readonly opened: { current: { file: Blob; pictureVersion: number } | null } = { current: null },
  ) {}

  get current(): string {
    return this.id;
  }

  private database(): Promise<IDBDatabase> {
    this.db ??= openDb();
    return this.db;
  }

  private versions(state: AppState): Versions {
    const p = state.picture;
    const size = p ? `${p.version}:${p.bounds.x},${p.bounds.y},${p.bounds.width}x${p.bounds.height}` : "none";
    return {
      picture: size,
      mask: `${size}:${state.mask.version}:${state.edits}`,
      paint: `${size}:${state.paint.version}`,
      history: this.history.revision,
    };
  }

  /** The recent documents, newest first. */
  async recent(): Promise<RecentDocument[]> {
    try {
      const db = await this.database();
      const list = await request<unknown>(db.transaction(STORE, "readonly").objectStore(STORE).get("recent"));
      return Array.isArray(list) ? (list as RecentDocument[]) : [];
    } catch {
      return [];
    }
  }

  /** The document last open (after a reload), or `id`'s. */
  async load(id?: string): Promise<SavedDocument | null> {
    try {
      const db = await this.database();
      if (id === undefined) {
        const current = await request<unknown>(db.transaction(STORE, "readonly").objectStore(STORE).get("current"));
        id = typeof current === "string" ? current : FIRST;
      }
      const tx = db.transaction(STORE, "readonly");
      const store = tx.objectStore(STORE);
      const read = (part: string): Promise<unknown> => request<unknown>(store.get(key(id!, part)));
      const [meta, picture, mask, paint, history] = await Promise.all(PARTS.map(read));
      if (!meta || !picture || (meta as SavedMeta).format !== FORMAT) return null;
      this.id = id;
      // what each part takes (the history's, once it is back: see `restored`)
      const size = (b: unknown) => (b instanceof Blob ? b.size : 0);
      this.sizes = { picture: size(picture), mask: size(mask), paint: size(paint) };
      return {
        meta: meta as SavedMeta,
        picture: picture as Blob,
        mask: (mask as Blob | undefined) ?? null,
        paint: (paint as Blob | undefined) ?? null,
        history: (history as SavedDocument["history"] | undefined) ?? null,
      };
    } catch {
      return null; // storage unavailable (private mode, quota): the page starts empty
    }
  }

  /** After a restore: what is in storage now is what the page holds. */
  restored(state: AppState): void {
    this.saved = this.versions(state);
    this.sizes.history = this.history.byteSize;
    void this.recent().then((list) => this.onRecent(list, []));
  }

  /** Before another document takes the page: the open one written in full (it stays among the recent
   * ones); then what is written is the new one's, under a new id. */
  async keep(getState: () => AppState): Promise<void> {
    await this.flush(getState);
    this.id = crypto.randomUUID();
    this.saved = null;
    this.sizes = {};
  }

  /** Call on every state change; writes a moment later. */
  changed(state: AppState, getState: () => AppState): void {
    if (!state.picture) return;
    this.pending = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush(getState);
    }, 1000);
  }

  /** Write what changed now; resolves when it is stored. */
  async flush(getState: () => AppState): Promise<void> {
    if (this.timer) clearTimeout(this.timer); // this write takes the latest state
    this.timer = null;
    while (this.running) await this.running;
    const state = getState();
    if (!state.picture) return;
    const run = this.write(state).catch((error: unknown) => {
      this.onError(`Could not keep the document in this browser: ${String(error)}`);
    });
    this.running = run;
    await run;
    this.running = null;
    this.pending = this.timer !== null;
  }

  private async write(state: AppState): Promise<void> {
    const picture = state.picture!;
    if (picture.id && picture.id !== this.id) return; // a document not (or no longer) this one's
    const now = this.versions(state);
    const before = this.saved;
    const bounds = this.layers.pictureBounds();
    const encode = async (canvas: HTMLCanvasElement | null, channels: 1 | 4 = 4) =>
      canvas ? new Blob([(await this.encoder.encode([{ canvas, bounds }], bounds, channels)).bytes], { type: "image/png" }) : null;
    const puts: [string, unknown][] = [];
    const id = this.id;
    const put = (part: string, value: unknown, bytes: number) => {
      puts.push([part, value]);
      this.sizes[part] = bytes;
    };
    const blobPut = (part: string, blob: Blob | null) => put(part, blob, blob?.size ?? 0);
    if (before?.picture !== now.picture) {
      const opened = this.opened.current;
      const asOpened = opened && opened.pictureVersion === picture.version ? opened.file : null;
      blobPut("picture", asOpened ?? (await encode(this.layers.picture)));
    }
    // the mask as grey: a quarter of the bytes to filter and compress
    if (before?.mask !== now.mask) blobPut("mask", await encode(this.layers.mask, 1));
    if (before?.paint !== now.paint) blobPut("paint", await encode(this.layers.paint));
    if (before?.history !== now.history) put("history", this.history.export(), this.history.byteSize);
    const meta: SavedMeta = {
      format: FORMAT,
      name: picture.name,
      bounds,
      bbox: state.bbox,
      staging: state.staging,
      // previews are big and stale after a reload
      jobs: Object.fromEntries(Object.entries(state.jobs).map(([id, job]) => [id, { ...job, preview: null }])),
      jobOrder: state.jobOrder,
      activeJob: state.activeJob,
      maskVisible: state.mask.visible,
      paint: state.paint,
      pictureVisible: state.pictureVisible,
      dirty: state.dirty,
      exif: this.meta.current.exif,
      icc: this.meta.current.icc,
    };
    puts.push(["meta", meta]);
    const db = await this.database();
    // this document first in the recent list; past the budget the oldest others go
    const others = (await this.recent()).filter((d) => d.id !== id);
    const entry: RecentDocument = {
      id,
      name: picture.name,
      width: bounds.width,
      height: bounds.height,
      bytes: Object.values(this.sizes).reduce((a, b) => a + b, 0),
      savedAt: Date.now(),
    };
    const dropped: RecentDocument[] = [];
    let total = entry.bytes + others.reduce((n, d) => n + d.bytes, 0);
    while (total > this.budget && others.length) {
      const oldest = others.pop()!;
      dropped.push(oldest);
      total -= oldest.bytes;
    }
    const recent = [entry, ...others];
    const tx = db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    for (const [part, value] of puts) store.put(value, key(id, part));
    for (const gone of dropped) for (const part of PARTS) store.delete(key(gone.id, part));
    store.put(recent, "recent");
    store.put(id, "current");
    await done(tx);
    this.saved = now;
    this.onRecent(recent, dropped);
  }

  async clear(): Promise<void> {
    const db = await this.database();
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).clear();
    await done(tx);
    this.saved = null;
  }
}

/** Decode a saved layer (off the main thread) for drawing back. */
export function decode(blob: Blob | null): Promise<ImageBitmap | null> {
  return blob ? createImageBitmap(blob, { colorSpaceConversion: "none" }) : Promise.resolve(null);
}
