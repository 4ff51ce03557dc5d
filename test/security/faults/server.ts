import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { close, listen, trackSockets } from '../../support/network.js';

/** A `node:http` server on 127.0.0.1 whose every answer the test decides. */
export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The path of each request received, in order. */
  paths: string[];
  /** Requests whose connection closed (answered, reset or given up by the client). */
  closed: number;
  close(): Promise<void>;
}

export type Script = (req: IncomingMessage, res: ServerResponse) => void;

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '/');
    res.once('close', () => {
      state.closed += 1;
    });
    // A client that gives up mid-body makes writes fail: that is expected here.
    res.on('error', () => undefined);
    script(req, res);
  });
  const sockets = trackSockets(server);
  const port = await listen(server);
  const state: ScriptedServer = {
    origin: `http://127.0.0.1:${port}`,
    paths,
    closed: 0,
    close: () => close(server, sockets),
  };
  return state;
}

/** Writes chunks of `size` bytes until the client goes away; resolves with the bytes written. */
export function writeForever(res: ServerResponse, size = 16 * 1024): Promise<number> {
  const chunk = Buffer.alloc(size, 0x20);
  let written = 0;
  return new Promise((resolve) => {
    const pump = () => {
      while (!res.destroyed) {
        written += size;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.once('close', () => resolve(written));
    pump();
  });
}
