import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SinkCount {
  count: number;
  bytes: number;
  withDeliveryId: number;
}

export interface SinkProcess {
  url: string;
  pid: number;
  count(): Promise<SinkCount>;
  /** Resolves once the sink has accepted `n` messages in all. */
  waitFor(n: number, timeoutMs?: number): Promise<SinkCount>;
  close(): Promise<void>;
}

/** Starts bench/lib/send-sink.mjs in a child process and returns its address. */
export async function startSinkProcess(): Promise<SinkProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./send-sink.mjs', import.meta.url)), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`SMTP sink exited with ${code}`)));
    child.once('message', (m: { type: string; port: number }) => resolve(m.port));
  });
  const count = () =>
    new Promise<SinkCount>((resolve) => {
      const onMessage = (m: { type: string } & SinkCount) => {
        if (m.type !== 'count') return;
        child.off('message', onMessage);
        resolve({ count: m.count, bytes: m.bytes, withDeliveryId: m.withDeliveryId });
      };
      child.on('message', onMessage);
      child.send({ type: 'count' });
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    pid: child.pid!,
    count,
    async waitFor(n, timeoutMs = 60_000) {
      const started = Date.now();
      for (;;) {
        const c = await count();
        if (c.count >= n) return c;
        if (Date.now() - started > timeoutMs) throw new Error(`SMTP sink got ${c.count} of ${n} messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' });
      await exited;
    },
  };
}
