// Prometheus metrics (prom-client: the Prometheus project's standard Node
// client, small and dependency-light; OpenTelemetry's metrics SDK would bring
// an exporter pipeline we do not need to answer one scrape endpoint, and the
// Cloud Monitoring push (cloudMonitoring.ts) reads this same registry). One
// registry per app, so that several apps in one process (tests) do not share
// counters.
//
// The request path updates metrics through slots or label children bound
// once per label combination (requestTally.ts, ChildCache): no label object
// is built per request.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestTally } from './requestTally.js';

/**
 * How a request was answered, from the cheapest to the dearest: `memory`
 * (the in-memory cache, nothing read), `storage` (read from storage),
 * `source` (a list, @latest or query asked of a git host, nothing built),
 * `build` (not in storage: resolved and built from git, here or by the
 * replica holding the lease), `parent` (not in storage: fetched from the
 * parent proxy), `none` (no module data: operations endpoints, the checksum
 * database proxy, requests refused before the service).
 */
export type Outcome = 'none' | 'memory' | 'storage' | 'source' | 'build' | 'parent';
const OUTCOME_RANK: Record<Outcome, number> = { none: 0, memory: 1, storage: 2, source: 3, build: 4, parent: 5 };

/** What one request learns about how it was answered (the handler's per-request record). */
export interface RequestNote {
  outcome?: Outcome;
}

/** Raises the note's outcome to `o` (the dearest step a request took is what it is counted as). */
export function noteOutcome(note: RequestNote | undefined, o: Outcome): void {
  if (note && OUTCOME_RANK[o] > OUTCOME_RANK[note.outcome ?? 'none']) note.outcome = o;
}

/**
 * Label children bound once per combination of up to three values, in a tree
 * of Maps: a lookup of a known combination allocates nothing (no label
 * object, no key string, no rest-argument array).
 */
export class ChildCache<C> {
  private readonly root = new Map<string | number, Map<string | number, Map<string | number, C>>>();
  constructor(private readonly bind: (values: string[]) => C) {}

  get(a: string | number, b: string | number = '', c: string | number = ''): C {
    let l1 = this.root.get(a);
    if (!l1) this.root.set(a, (l1 = new Map()));
    let l2 = l1.get(b);
    if (!l2) l1.set(b, (l2 = new Map()));
    let child = l2.get(c);
    if (child === undefined) {
      child = this.bind([String(a), String(b), String(c)]);
      l2.set(c, child);
    }
    return child;
  }
}

export class ProxyMetrics {
  readonly registry = new Registry();
  /** Requests by route, status and outcome, and their latency by route and outcome (requestTally.ts: the request path's cost). */
  private readonly requests = new RequestTally({
    registry: this.registry,
    counter: {
      name: 'modproxy_http_requests_total',
      help: 'HTTP requests answered, by route (list, latest, info, mod, zip, sumdb, index, …), status and outcome (memory, storage, source, build, parent, none).',
    },
    histogram: {
      name: 'modproxy_http_request_duration_seconds',
      help: 'Time from request to the end of the reply, by route and outcome.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    },
  });
  readonly storageOps = new Counter({
    name: 'modproxy_storage_operations_total',
    help: 'Storage calls, by operation (read, openRead, stat, list, createIfAbsent, signedReadUrl) and result (ok, error).',
    labelNames: ['op', 'result'] as const,
    registers: [this.registry],
  });
  readonly storageLatency = new Histogram({
    name: 'modproxy_storage_operation_duration_seconds',
    help: 'Storage call duration (until the call answers; streamed bodies are not included), by operation.',
    labelNames: ['op'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly builds = new Counter({
    name: 'modproxy_builds_total',
    help: 'Build steps run by this replica (manifest: resolve and commit .info/.mod; zip: make and commit the zip), by result.',
    labelNames: ['step', 'result'] as const,
    registers: [this.registry],
  });
  readonly buildDuration = new Histogram({
    name: 'modproxy_build_duration_seconds',
    help: 'Build step duration, including source fetches, by step.',
    labelNames: ['step'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });

  readonly gitBytes = new Counter({
    name: 'modproxy_git_fetched_bytes_total',
    help: 'Response body bytes received from git hosts (ref listings and packs).',
    registers: [this.registry],
  });
  readonly parentBytes = new Counter({
    name: 'modproxy_parent_fetched_bytes_total',
    help: 'Response body bytes received from the parent proxy (lists, .info, .mod, .zip).',
    registers: [this.registry],
  });

  readonly sumdbLookups = new Counter({
    name: 'modproxy_sumdb_lookups_total',
    help: 'Checksum database lookups this replica verified against the database, by database and result (verified, not_found, error).',
    labelNames: ['database', 'result'] as const,
    registers: [this.registry],
  });
  readonly sumdbFetches = new Counter({
    name: 'modproxy_sumdb_fetches_total',
    help: 'Requests sent to a checksum database, by database, kind (lookup, tile, latest) and result (ok, not_found, error).',
    labelNames: ['database', 'kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly sumdbAnswers = new Counter({
    name: 'modproxy_sumdb_proxy_answers_total',
    help: 'Answers of the /sumdb/ proxy, by database, kind (lookup, tile, latest) and where they came from (storage, upstream, memory, stale).',
    labelNames: ['database', 'kind', 'source'] as const,
    registers: [this.registry],
  });

  readonly leaseWaits = new Counter({
    name: 'modproxy_lease_waits_total',
    help: "Waits for another replica's build lease, by step and how they ended (result: its result appeared; acquired: the lease was let go or went stale and this replica took it; timeout: leaseMaxWaitSeconds passed, built anyway).",
    labelNames: ['step', 'result'] as const,
    registers: [this.registry],
  });
  readonly leaseWaitDuration = new Histogram({
    name: 'modproxy_lease_wait_duration_seconds',
    help: "Time spent waiting for another replica's build lease, by step.",
    labelNames: ['step'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120],
    registers: [this.registry],
  });

  /** Counts and times one request (the hit path: numbers added in a bound slot, nothing built per call). */
  observeRequest(route: string, status: number, outcome: Outcome, seconds: number): void {
    this.requests.record(route, status, outcome, seconds);
  }

  /** Gauges read at scrape time from the in-memory cache. */
  watchMemoryCache(cache: () => { bytes: number; maxBytes: number; entries: number; evictions: number }): void {
    const registers = [this.registry];
    new Gauge({ name: 'modproxy_memory_cache_bytes', help: 'Bytes the in-memory artifact cache holds (bounded by cache.memoryBytes).', registers, collect() { this.set(cache().bytes); } });
    new Gauge({ name: 'modproxy_memory_cache_limit_bytes', help: 'The in-memory artifact cache bound (cache.memoryBytes).', registers, collect() { this.set(cache().maxBytes); } });
    new Gauge({ name: 'modproxy_memory_cache_entries', help: 'Entries in the in-memory artifact cache.', registers, collect() { this.set(cache().entries); } });
    new Counter({
      name: 'modproxy_memory_cache_evictions_total',
      help: 'Entries evicted from the in-memory artifact cache to make room.',
      registers,
      collect() {
        this.reset();
        this.inc(cache().evictions);
      },
    });
  }

  /** The text exposition format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
