/** `npm run bench -- NAME [--count N]`: runs one benchmark against the real broker on 127.0.0.1:9092. */
import { runPipelineBench } from './pipeline.ts';
import { runCheckpointBench } from './checkpoint.ts';
import { runKafkaRaw } from './kafka-raw.ts';
import { runLakeBench } from './lake.ts';
import { runViewsBench } from './views.ts';
import { deleteBenchTopics } from './util.ts';

const benches: Record<string, (argv: readonly string[]) => Promise<unknown>> = {
  pipeline: runPipelineBench,
  checkpoint: runCheckpointBench,
  views: runViewsBench,
  lake: runLakeBench,
  'kafka-raw': async (argv) => {
    const i = argv.indexOf('--count');
    return runKafkaRaw(i >= 0 ? { count: Number(argv[i + 1]) } : {});
  },
};

const [name, ...rest] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`Usage: npm run bench -- <${Object.keys(benches).join('|')}> [--count N]`);
  process.exit(2);
}
try {
  await bench(rest);
} finally {
  await deleteBenchTopics();
}
process.exit(0);
