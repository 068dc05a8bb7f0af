// Pushes the /metrics registry to Cloud Monitoring (API v3
// projects.timeSeries.create) now and then, for deployments nobody scrapes:
// Cloud Run and Cloud Functions gen2 have no Prometheus server unless one is
// added as a sidecar, and a push works the same for gcloud and Terraform
// deploys.
//
// Mapping (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TimeSeries):
// - metric type custom.googleapis.com/modproxy/<name without "modproxy_">,
//   metric labels = the Prometheus labels;
// - counters: CUMULATIVE DOUBLE, startTime = when this exporter started (each
//   instance's counters start at zero then);
// - gauges: GAUGE DOUBLE (startTime = endTime);
// - histograms: CUMULATIVE DISTRIBUTION, explicitBuckets = the Prometheus
//   bucket bounds, bucketCounts = the per-bucket counts (N bounds, N+1
//   buckets: Prometheus' cumulative "le" counts taken apart), count, mean;
// - monitored resource generic_task {project_id, location, namespace (the
//   Cloud Run service, K_SERVICE), job (the revision, K_REVISION), task_id
//   (this instance)}: every instance writes its own series, as the API wants
//   (a series takes one writer).
//
// Bounded and off the request path: one push at a time on an unref'd timer,
// at most 200 series per call (the API's limit), each call with a deadline; a
// failed push is logged as one line per interval (status and the API's
// message, never the token), and the next interval simply tries again.
import crypto from 'node:crypto';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** The most time series one timeSeries.create call may carry. */
export const MAX_SERIES_PER_CALL = 200;
export const METRIC_PREFIX = 'custom.googleapis.com/modproxy/';
export const DEFAULT_ENDPOINT = 'https://monitoring.googleapis.com';
/** The API takes one point per series every 5 s at most. */
const MIN_POINT_SPACING_MS = 5000;

export interface MonitoredResource {
  type: 'generic_task';
  labels: { project_id: string; location: string; namespace: string; job: string; task_id: string };
}

export interface TimeSeries {
  metric: { type: string; labels: Record<string, string> };
  resource: MonitoredResource;
  metricKind: 'GAUGE' | 'CUMULATIVE';
  valueType: 'DOUBLE' | 'DISTRIBUTION';
  points: Array<{
    interval: { startTime?: string; endTime: string };
    value: { doubleValue: number } | { distributionValue: Distribution };
  }>;
}

export interface Distribution {
  count: string;
  mean: number;
  bucketOptions: { explicitBuckets: { bounds: number[] } };
  bucketCounts: string[];
}

/** Where the exporter gets what it needs from Google: an access token, and the project when not configured. */
export interface GoogleCredentials {
  accessToken(): Promise<string>;
  projectId(): Promise<string>;
}

export interface CloudMonitoringOptions {
  registry: Registry;
  credentials: GoogleCredentials;
  log: Logger;
  /** The project written to (default: the credentials' project). */
  projectId?: string;
  /** The resource's location label (a region); default: the metadata server's region, else "global". */
  location?: string | (() => Promise<string | undefined>);
  intervalMs: number;
  /** API base URL (default https://monitoring.googleapis.com). */
  endpoint?: string;
  /** Deadline of one call (default: 30 s, at most the interval). */
  timeoutMs?: number;
  /** namespace and job labels (default: K_SERVICE and K_REVISION, else "modproxy"). */
  namespace?: string;
  job?: string;
  /** This instance's task_id (default: a random id per process). */
  taskId?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Prometheus metrics (prom-client's JSON form) as Cloud Monitoring time series at `endMs`. */
export function toTimeSeries(metrics: MetricObjectWithValues<MetricValue<string>>[], resource: MonitoredResource, startMs: number, endMs: number): TimeSeries[] {
  const out: TimeSeries[] = [];
  const startTime = new Date(startMs).toISOString();
  const endTime = new Date(endMs).toISOString();
  for (const m of metrics) {
    const type = METRIC_PREFIX + m.name.replace(/^modproxy_/, '');
    // prom-client's MetricType is a const enum in its typings: compare its string value.
    const kind = m.type as unknown as string;
    if (kind === 'counter' || kind === 'gauge') {
      const cumulative = kind === 'counter';
      for (const v of m.values) {
        if (!Number.isFinite(v.value)) continue;
        out.push({
          metric: { type, labels: stringLabels(v.labels) },
          resource,
          metricKind: cumulative ? 'CUMULATIVE' : 'GAUGE',
          valueType: 'DOUBLE',
          points: [{ interval: cumulative ? { startTime, endTime } : { endTime }, value: { doubleValue: v.value } }],
        });
      }
    } else if (kind === 'histogram') {
      for (const h of histograms(m.values as Array<MetricValue<string> & { metricName?: string }>, m.name)) {
        const bounds = h.buckets.filter((b) => b.le !== Infinity).map((b) => b.le);
        const counts: string[] = [];
        let below = 0;
        for (const b of h.buckets) {
          counts.push(String(Math.max(0, b.cumulative - below)));
          below = b.cumulative;
        }
        // N bounds, N + 1 buckets: the last (le="+Inf") is the overflow bucket.
        while (counts.length < bounds.length + 1) counts.push('0');
        out.push({
          metric: { type, labels: stringLabels(h.labels) },
          resource,
          metricKind: 'CUMULATIVE',
          valueType: 'DISTRIBUTION',
          points: [
            {
              interval: { startTime, endTime },
              value: {
                distributionValue: {
                  count: String(h.count),
                  mean: h.count > 0 ? h.sum / h.count : 0,
                  bucketOptions: { explicitBuckets: { bounds } },
                  bucketCounts: counts.slice(0, bounds.length + 1),
                },
              },
            },
          ],
        });
      }
    }
    // Summaries: none registered (Cloud Monitoring has no such kind).
  }
  return out;
}

function stringLabels(labels: Partial<Record<string, string | number>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
}

interface HistogramSeries {
  labels: Record<string, string | number>;
  buckets: Array<{ le: number; cumulative: number }>;
  sum: number;
  count: number;
}

/** prom-client's flat histogram samples (_bucket, _sum, _count), grouped by label set. */
function histograms(values: Array<MetricValue<string> & { metricName?: string }>, name: string): HistogramSeries[] {
  const byKey = new Map<string, HistogramSeries>();
  for (const v of values) {
    const { le, ...labels } = v.labels as Record<string, string | number>;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let h = byKey.get(key);
    if (!h) byKey.set(key, (h = { labels, buckets: [], sum: 0, count: 0 }));
    if (v.metricName === `${name}_bucket`) h.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), cumulative: v.value });
    else if (v.metricName === `${name}_sum`) h.sum = v.value;
    else if (v.metricName === `${name}_count`) h.count = v.value;
  }
  for (const h of byKey.values()) h.buckets.sort((a, b) => a.le - b.le);
  return [...byKey.values()];
}

/** One line of an API error body, for the log: Google's error message, capped. */
async function apiError(res: Response): Promise<string> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 4096);
    const j = JSON.parse(text) as { error?: { message?: unknown; status?: unknown } };
    if (typeof j.error?.message === 'string') text = `${typeof j.error.status === 'string' ? j.error.status + ': ' : ''}${j.error.message}`;
  } catch {
    // not JSON: the text as it came
  }
  const line = text.split('\n', 1)[0].replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return `HTTP ${res.status}${line ? `: ${line.length > 300 ? line.slice(0, 300) + '…' : line}` : ''}`;
}

export class CloudMonitoringExporter {
  private readonly startMs: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private resource?: Promise<MonitoredResource>;
  private lastEndMs = 0;

  constructor(private readonly opts: CloudMonitoringOptions) {
    this.now = opts.now ?? Date.now;
    this.startMs = this.now();
  }

  /** Starts pushing every interval (the timer keeps no process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.push(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a push under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * At shutdown: stops, then pushes what the last interval counted (each
   * call within `timeoutMs`, to fit Cloud Run's 10 s between SIGTERM and
   * SIGKILL), unless a push ended less than the API's 5 s per point ago.
   */
  async shutdown(timeoutMs = 5000): Promise<void> {
    await this.stop();
    if (this.lastEndMs !== 0 && this.now() - this.lastEndMs < MIN_POINT_SPACING_MS) return;
    await this.pushNow(timeoutMs);
  }

  /** One push, unless one is under way (then that one). Never throws: failures are logged. */
  push(): Promise<void> {
    this.running ??= this.pushNow().finally(() => (this.running = undefined));
    return this.running;
  }

  private monitoredResource(): Promise<MonitoredResource> {
    this.resource ??= (async () => {
      const o = this.opts;
      const project = o.projectId ?? (await o.credentials.projectId());
      const location = typeof o.location === 'function' ? await o.location() : o.location;
      return {
        type: 'generic_task' as const,
        labels: {
          project_id: project,
          location: location || 'global',
          namespace: o.namespace ?? process.env.K_SERVICE ?? 'modproxy',
          job: o.job ?? process.env.K_REVISION ?? process.env.K_SERVICE ?? 'modproxy',
          task_id: o.taskId ?? crypto.randomUUID(),
        },
      };
    })();
    this.resource.catch(() => (this.resource = undefined));
    return this.resource;
  }

  private async pushNow(callTimeoutMs?: number): Promise<void> {
    const o = this.opts;
    // Points of one series must move forward in time (and a cumulative one must end after it starts).
    const endMs = Math.max(this.now(), this.lastEndMs + 1, this.startMs + 1000);
    let series: TimeSeries[];
    let resource: MonitoredResource;
    let token: string;
    try {
      resource = await this.monitoredResource();
      series = toTimeSeries(await o.registry.getMetricsAsJSON(), resource, this.startMs, endMs);
      token = await o.credentials.accessToken();
    } catch (err) {
      o.log.warn('Cloud Monitoring export failed: no credentials or project', { reason: errorMessage(err) });
      return;
    }
    this.lastEndMs = endMs;
    const url = `${(o.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v3/projects/${encodeURIComponent(resource.labels.project_id)}/timeSeries`;
    const doFetch = o.fetch ?? fetch;
    const timeoutMs = callTimeoutMs ?? o.timeoutMs ?? Math.min(30_000, o.intervalMs);
    let failed = 0;
    let firstReason: string | undefined;
    for (let i = 0; i < series.length; i += MAX_SERIES_PER_CALL) {
      const batch = series.slice(i, i + MAX_SERIES_PER_CALL);
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ timeSeries: batch }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.ok) {
          await res.body?.cancel().catch(() => {});
          continue;
        }
        failed++;
        firstReason ??= await apiError(res);
      } catch (err) {
        failed++;
        firstReason ??= (err as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : errorMessage(err);
      }
    }
    if (failed > 0) {
      o.log.warn('Cloud Monitoring export failed', {
        project: resource.labels.project_id,
        failedCalls: failed,
        calls: Math.ceil(series.length / MAX_SERIES_PER_CALL),
        series: series.length,
        reason: firstReason,
      });
    }
  }
}
