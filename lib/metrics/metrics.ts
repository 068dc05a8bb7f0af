// Prometheus metrics (prom-client: the Prometheus project's standard Node
// client, small and dependency-light; OpenTelemetry's metrics SDK would bring
// an exporter pipeline we do not need to answer one scrape endpoint). One
// registry per app, so that several apps in one process (tests) do not share
// counters.
import { Counter, Histogram, Registry } from 'prom-client';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'modproxy_http_requests_total',
    help: 'HTTP requests answered, by route (list, latest, info, mod, zip, sumdb, index, …) and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'modproxy_http_request_duration_seconds',
    help: 'Time from request to the end of the reply, by route.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
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

  /** The text exposition format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
