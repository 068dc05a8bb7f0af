// Request counts and latencies, tallied in plain numbers on the request path
// and read into the registry when it is scraped (or pushed). prom-client's
// Counter.inc and Histogram.observe validate the labels and hash them into a
// string key on every call, even through a bound child: on the hit path that
// was about a microsecond and 550 bytes of garbage per request (measured with
// perf and V8's sampling heap profiler). Here a request finds its slot (one
// per label combination, bound once) and adds to numbers in it.
//
// What the registry shows is what prom-client's own Counter and Histogram
// show: the counter is a prom-client Counter filled at collect time; the
// histogram is exposed in the shape prom-client gives histograms (the `_bucket`
// samples with cumulative `le` counts and `+Inf`, `_sum`, `_count`), which the
// text format and the Cloud Monitoring push (cloudMonitoring.ts) both read.
import { Counter, type Metric, type Registry } from 'prom-client';

/** One (route, outcome): its latency histogram. */
interface LatencySlot {
  labels: { route: string; outcome: string };
  /** Observations per bucket, not cumulative; the last is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** One (route, status, outcome): its request count, and the latency slot it adds to. */
interface CountSlot {
  labels: { route: string; status: string; outcome: string };
  count: number;
  latency: LatencySlot;
}

export interface RequestTallyOptions {
  registry: Registry;
  counter: { name: string; help: string };
  histogram: { name: string; help: string; buckets: number[] };
}

export class RequestTally {
  private readonly bounds: Float64Array;
  /** route → status → outcome → slot: a known combination allocates nothing. */
  private readonly slots = new Map<string, Map<number, Map<string, CountSlot>>>();
  private readonly countSlots: CountSlot[] = [];
  private readonly latencySlots = new Map<string, LatencySlot>();

  constructor(private readonly opts: RequestTallyOptions) {
    this.bounds = Float64Array.from([...opts.histogram.buckets].sort((a, b) => a - b));
    const countSlots = this.countSlots;
    new Counter({
      name: opts.counter.name,
      help: opts.counter.help,
      labelNames: ['route', 'status', 'outcome'] as const,
      registers: [opts.registry],
      collect() {
        this.reset();
        for (const s of countSlots) this.inc(s.labels, s.count);
      },
    });
    opts.registry.registerMetric(this.histogramMetric() as unknown as Metric);
  }

  /** Counts one request and its latency. */
  record(route: string, status: number, outcome: string, seconds: number): void {
    const slot = this.slot(route, status, outcome);
    slot.count++;
    const l = slot.latency;
    l.count++;
    l.sum += seconds;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]) i++;
    l.counts[i]++;
  }

  private slot(route: string, status: number, outcome: string): CountSlot {
    let byStatus = this.slots.get(route);
    if (!byStatus) this.slots.set(route, (byStatus = new Map()));
    let byOutcome = byStatus.get(status);
    if (!byOutcome) byStatus.set(status, (byOutcome = new Map()));
    let slot = byOutcome.get(outcome);
    if (!slot) {
      const key = `${route}\u0000${outcome}`;
      let latency = this.latencySlots.get(key);
      if (!latency) {
        latency = { labels: { route, outcome }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
        this.latencySlots.set(key, latency);
      }
      slot = { labels: { route, status: String(status), outcome }, count: 0, latency };
      byOutcome.set(outcome, slot);
      this.countSlots.push(slot);
    }
    return slot;
  }

  /** The histogram as a registry metric: prom-client's histogram shape, read from the slots. */
  private histogramMetric() {
    const { name, help } = this.opts.histogram;
    const values = () => {
      const out: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const s of this.latencySlots.values()) {
        let cumulative = 0;
        this.bounds.forEach((le, i) => {
          cumulative += s.counts[i];
          out.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${name}_bucket` });
        });
        out.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${name}_bucket` });
        out.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
        out.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
      }
      return out;
    };
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
      reset: () => {
        for (const s of this.latencySlots.values()) {
          s.counts.fill(0);
          s.sum = 0;
          s.count = 0;
        }
        for (const s of this.countSlots) s.count = 0;
      },
    };
  }
}
