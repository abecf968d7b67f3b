// Loads a Chrome trace written by ppsim with the trace engine of Chrome
// DevTools' Performance panel and checks that what it built matches the file:
// a process per rank, a "compute" thread holding every op slice, transfer
// threads holding every send/recv slice. Usage: node check_trace_loads.mjs FILE RANKS
import fs from 'node:fs';

let analyzeEvents;
try {
  ({analyzeEvents} = await import('@paulirish/trace_engine/analyze-trace.mjs'));
} catch (e) {
  console.log(`@paulirish/trace_engine is not installed (npm ci in tests/trace_load): ${e.message}`);
  process.exit(77);
}

const [file, ranksArg] = process.argv.slice(2);
const ranks = Number(ranksArg);
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const {parsedTrace} = await analyzeEvents(doc.traceEvents);
const renderer = parsedTrace.data.Renderer;

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

// What the file says, per (pid, tid): the number of complete events.
const slicesIn = new Map();
for (const e of doc.traceEvents) {
  if (e.ph !== 'X') continue;
  const key = `${e.pid}/${e.tid}`;
  slicesIn.set(key, (slicesIn.get(key) ?? 0) + 1);
}

check(renderer.processes.size === ranks, `expected ${ranks} processes, engine built ${renderer.processes.size}`);
let threads = 0;
for (const [pid, proc] of renderer.processes) {
  let compute = 0;
  for (const [tid, thread] of proc.threads) {
    ++threads;
    const expected = slicesIn.get(`${pid}/${tid}`) ?? 0;
    check(thread.entries.length === expected,
          `GPU ${pid} thread '${thread.name}': ${thread.entries.length} entries, the file has ${expected} slices`);
    if (thread.name === 'compute') ++compute;
    else check(thread.name.startsWith('transfers'), `GPU ${pid}: unexpected thread '${thread.name}'`);
  }
  check(compute === 1, `GPU ${pid}: ${compute} compute threads`);
}
check(threads === slicesIn.size, `engine built ${threads} threads, the file has ${slicesIn.size} with slices`);

if (failures.length) {
  for (const f of failures) console.log(`FAIL: ${f}`);
  process.exit(1);
}
console.log(`trace loaded: ${renderer.processes.size} processes, ${threads} threads, ${doc.traceEvents.length} events`);
