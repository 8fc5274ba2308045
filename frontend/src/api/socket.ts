// The job event stream. Subscribes to the jobs this page made; when the connection drops (a server
// restart) it reconnects with backoff and subscribes again, and the server replays each job's state.
// Events and the subscribe message are typed by the server's OpenAPI (`ServerEvent`, `Subscribe`).

import type { ServerEvent, SocketMessage } from "./client";

export type JobEvent = ServerEvent;

export type ConnectionState = "connecting" | "open" | "reconnecting";

export class JobSocket {
  private socket: WebSocket | null = null;
  private jobIds = new Set<string>();
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onEvent: (event: JobEvent) => void,
    private readonly onState: (state: ConnectionState) => void,
  ) {}

  static defaultUrl(session: string, token: string | null = null): string {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const auth = token ? `&token=${encodeURIComponent(token)}` : "";
    return `${scheme}://${location.host}/api/v1/ws?session=${encodeURIComponent(session)}${auth}`;
  }

  connect(): void {
    this.closed = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      this.onState("open");
      if (this.jobIds.size > 0) this.send({ type: "subscribe", job_ids: [...this.jobIds] });
    };
    socket.onmessage = (message: MessageEvent<string>) => {
      let event: JobEvent;
      try {
        event = JSON.parse(message.data) as JobEvent; // the server sends only ServerEvent frames
      } catch {
        return; // a frame we cannot read is not worth breaking the page for
      }
      this.onEvent(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      this.onState("reconnecting");
      const delay = Math.min(5000, 250 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  subscribe(ids: string[]): void {
    for (const id of ids) this.jobIds.add(id);
    this.send({ type: "subscribe", job_ids: ids });
  }

  /** Finished jobs need no more events. */
  forget(id: string): void {
    this.jobIds.delete(id);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
  }

  private send(message: SocketMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
