import { produceWeibo } from '../examples/weibo/produce.ts';
import { DEFAULT_BROKERS, UsageError, parseArgs, pick } from './args.ts';
import type { CliContext, Command } from './cli.ts';

const genOptions = {
  rate: { type: 'string' },
  count: { type: 'string' },
  topic: { type: 'string' },
  seed: { type: 'string' },
  'bad-rate': { type: 'string' },
  partitions: { type: 'string' },
  brokers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v.replace(/\/s$/, ''));
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
  return n;
}

export const genCommand: Command = {
  summary: 'produce demo events to Kafka: weir gen weibo [--rate N/s] [--count N]',
  usage: `Usage: weir gen weibo [--rate N/s] [--count N] [--topic weibo_data] [--seed S] [--bad-rate 0.01] [--partitions 4] [--brokers host:port]

Produces deterministic (for a seed) microblog events: JSON on the topic, keyed by uid.
  --rate N       events per second, event time = wall clock (default 200); 0 = flat out (a backfill)
  --count N      stop after N events (default: run until Ctrl-C)
  --bad-rate R   share of malformed records (default 0)`,
  async run(argv, ctx: CliContext) {
    const parsed = parseArgs(argv, genOptions);
    if (parsed.values.help) {
      ctx.out(this.usage);
      return 0;
    }
    const kind = parsed.positionals[0];
    if (kind !== 'weibo') throw new UsageError(kind ? `unknown generator '${kind}' (known: weibo)` : 'which generator? weir gen weibo');
    const v = parsed.values;
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    const topic = v.topic ?? 'weibo_data';
    const total = await produceWeibo({
      brokers: pick(v.brokers, ctx.env, 'WEIR_BROKERS', DEFAULT_BROKERS),
      topic,
      rate: num(v.rate, 'rate', 200),
      count: num(v.count, 'count', 0),
      seed: num(v.seed, 'seed', 42),
      badRate: num(v['bad-rate'], 'bad-rate', 0),
      partitions: num(v.partitions, 'partitions', 4),
      signal: ac.signal,
      onProgress: (n, rate) => ctx.err(`[gen] ${n} events to ${topic} (${rate}/s)`),
    });
    ctx.out(`[gen] produced ${total} events to ${topic}`);
    return 0;
  },
};
