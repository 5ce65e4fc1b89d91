// Preloaded into executor hosts (NODE_OPTIONS=--require …) by `npm run bench -- --cpu-prof DIR`:
// Node 20 refuses --cpu-prof in NODE_OPTIONS, so this starts the V8 profiler of the thread it
// runs in (the host's main thread and each task thread) through node:inspector and writes a
// .cpuprofile to STRATUS_BENCH_PROF_DIR after STRATUS_BENCH_PROF_MS, or when the thread exits.
const inspector = require('node:inspector');
const { writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const { isMainThread, threadId } = require('node:worker_threads');

const dir = process.env.STRATUS_BENCH_PROF_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // A session on the same thread answers synchronously, so this works in an exit handler.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const name = `${process.pid}-${isMainThread ? 'main' : `thread-${threadId}`}.cpuprofile`;
      writeFileSync(path.join(dir, name), JSON.stringify(result.profile));
    });
  };
  const ms = Number(process.env.STRATUS_BENCH_PROF_MS ?? 0);
  if (ms > 0) setTimeout(write, ms).unref();
  process.on('exit', write);
}
