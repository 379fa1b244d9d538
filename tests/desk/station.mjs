// Starting a station for a desk spec: `serve` on a free loopback port, resolved with
// its URL once it says where it listens (the one place the specs wait for it).
import { spawn } from 'node:child_process';

export async function serveStation(binary, dataDir, extra = []) {
  const server = spawn(binary, ['--data-dir', dataDir, 'serve', '--listen', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    server.on('exit', (code) => reject(new Error(`station exited (${code})`)));
  });
  return { server, url };
}
