import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Tracks each connection's requests in flight, so that shutdown can close every connection that has
 * none: keep-alive connections gone idle after close() began, and connections a client opened but never
 * sent a request on (Node keeps those for headersTimeout, 60 s), while answers in flight still go out.
 */
export class ConnectionTracker {
  private readonly inFlight = new Map<Socket, number>();

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      this.inFlight.set(socket, 0);
      socket.once("close", () => this.inFlight.delete(socket));
    });
    server.on("request", (req, res) => {
      const socket = req.socket;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      res.once("close", () => {
        if (this.inFlight.has(socket))
          this.inFlight.set(socket, Math.max(0, (this.inFlight.get(socket) ?? 1) - 1));
      });
    });
  }

  /** Destroys every connection with no request in flight; returns how many. */
  closeIdle(): number {
    let n = 0;
    for (const [socket, count] of this.inFlight) {
      if (count === 0) {
        socket.destroy();
        n++;
      }
    }
    return n;
  }
}
