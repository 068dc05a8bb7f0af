// An HTTP double of Cloud Monitoring API v3 projects.timeSeries.create
// (POST /v3/projects/{project}/timeSeries), on 127.0.0.1, that checks what
// the real API checks of a write and answers as it does:
// - Authorization: Bearer <a token the double was given>, else 401
//   UNAUTHENTICATED;
// - 1..200 time series per call; each with metric.type, metric.labels
//   (keys [a-z][a-z0-9_]*, at most 10, values strings), a monitored resource
//   (generic_task: project_id, location, namespace, job, task_id, no other),
//   metricKind GAUGE or CUMULATIVE, valueType DOUBLE, INT64 or DISTRIBUTION,
//   exactly one point whose value field matches valueType;
// - interval: endTime (RFC 3339); GAUGE: startTime absent or equal to
//   endTime; CUMULATIVE: startTime before endTime;
// - DISTRIBUTION: count, mean, bucketOptions.explicitBuckets.bounds strictly
//   increasing, bucketCounts with N+1 entries summing to count;
// - no series twice in one call; across calls, a series' points move forward
//   in time, a cumulative series keeps its startTime and never decreases, and
//   a metric type keeps the kind and value type of its first write (the
//   descriptor the API creates then);
// - errors as {"error":{"code","message","status"}} with 400
//   INVALID_ARGUMENT (the first problem; nothing of the call is written, a
//   simplification: the API writes the valid series of a call).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredPoint {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: string; labels: Record<string, string> };
  metricKind: string;
  valueType: string;
  point: { interval: { startTime?: string; endTime: string }; value: Record<string, unknown> };
}

export interface MonitoringCall {
  project: string;
  status: number;
  series: number;
  error?: string;
  /** The Authorization header as received (tests check it is never logged). */
  authorization?: string;
}

export interface CloudMonitoringDouble {
  url: string;
  calls: MonitoringCall[];
  /** Every point written, in order. */
  points: StoredPoint[];
  /** Answer every call with this status and message from now on (undefined: behave). */
  fail(status: number | undefined, message?: string): void;
  close(): Promise<void>;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

class Invalid extends Error {}

function isRecordOfStrings(x: unknown): x is Record<string, string> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every((v) => typeof v === 'string');
}

function seriesKey(ts: { metric: { type: string; labels: Record<string, string> }; resource: { type: string; labels: Record<string, string> } }): string {
  const sorted = (r: Record<string, string>) => JSON.stringify(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${ts.metric.type} ${sorted(ts.metric.labels)} ${ts.resource.type} ${sorted(ts.resource.labels)}`;
}

function checkSeries(ts: Record<string, unknown>, i: number): StoredPoint {
  const at = `timeSeries[${i}]`;
  const metric = ts.metric as { type?: unknown; labels?: unknown } | undefined;
  if (!metric || typeof metric.type !== 'string' || !/^custom\.googleapis\.com\/[A-Za-z0-9_/.]+$/.test(metric.type)) throw new Invalid(`${at}.metric.type must be a custom.googleapis.com type`);
  const labels = metric.labels ?? {};
  if (!isRecordOfStrings(labels)) throw new Invalid(`${at}.metric.labels must map strings to strings`);
  if (Object.keys(labels).length > 10) throw new Invalid(`${at}.metric.labels: more than 10 labels`);
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[a-z][a-z0-9_]{0,99}$/.test(k)) throw new Invalid(`${at}.metric.labels: invalid key ${JSON.stringify(k)}`);
    if (Buffer.byteLength(v) > 1024) throw new Invalid(`${at}.metric.labels.${k}: value longer than 1024 bytes`);
  }
  const resource = ts.resource as { type?: unknown; labels?: unknown } | undefined;
  if (!resource || resource.type !== 'generic_task') throw new Invalid(`${at}.resource.type must be generic_task here`);
  if (!isRecordOfStrings(resource.labels)) throw new Invalid(`${at}.resource.labels must map strings to strings`);
  const want = ['job', 'location', 'namespace', 'project_id', 'task_id'];
  if (JSON.stringify(Object.keys(resource.labels).sort()) !== JSON.stringify(want) || Object.values(resource.labels).some((v) => v === '')) {
    throw new Invalid(`${at}.resource.labels must be exactly ${want.join(', ')}, none empty`);
  }
  const kind = ts.metricKind;
  if (kind !== 'GAUGE' && kind !== 'CUMULATIVE') throw new Invalid(`${at}.metricKind must be GAUGE or CUMULATIVE`);
  const vt = ts.valueType;
  if (vt !== 'DOUBLE' && vt !== 'INT64' && vt !== 'DISTRIBUTION') throw new Invalid(`${at}.valueType must be DOUBLE, INT64 or DISTRIBUTION`);
  if (!Array.isArray(ts.points) || ts.points.length !== 1) throw new Invalid(`${at}.points must hold exactly one point`);
  const point = ts.points[0] as { interval?: { startTime?: unknown; endTime?: unknown }; value?: Record<string, unknown> };
  const iv = point.interval;
  if (!iv || typeof iv.endTime !== 'string' || !RFC3339.test(iv.endTime)) throw new Invalid(`${at}.points[0].interval.endTime must be an RFC 3339 time`);
  if (iv.startTime !== undefined && (typeof iv.startTime !== 'string' || !RFC3339.test(iv.startTime))) throw new Invalid(`${at}.points[0].interval.startTime must be an RFC 3339 time`);
  if (kind === 'GAUGE' && iv.startTime !== undefined && Date.parse(iv.startTime) !== Date.parse(iv.endTime)) throw new Invalid(`${at}: a GAUGE point's startTime must equal its endTime`);
  if (kind === 'CUMULATIVE' && (iv.startTime === undefined || Date.parse(iv.startTime) >= Date.parse(iv.endTime))) throw new Invalid(`${at}: a CUMULATIVE point needs a startTime before its endTime`);
  const value = point.value;
  if (!value || Object.keys(value).length !== 1) throw new Invalid(`${at}.points[0].value must set exactly one field`);
  if (vt === 'DOUBLE' && typeof value.doubleValue !== 'number') throw new Invalid(`${at}: valueType DOUBLE needs doubleValue`);
  if (vt === 'INT64' && !(typeof value.int64Value === 'string' && /^-?\d+$/.test(value.int64Value))) throw new Invalid(`${at}: valueType INT64 needs int64Value`);
  if (vt === 'DISTRIBUTION') {
    const d = value.distributionValue as { count?: unknown; mean?: unknown; bucketOptions?: { explicitBuckets?: { bounds?: unknown } }; bucketCounts?: unknown } | undefined;
    if (!d) throw new Invalid(`${at}: valueType DISTRIBUTION needs distributionValue`);
    const count = Number(d.count);
    if (!(typeof d.count === 'string' || typeof d.count === 'number') || !Number.isInteger(count) || count < 0) throw new Invalid(`${at}: distributionValue.count must be a non-negative int64`);
    if (typeof d.mean !== 'number' || !Number.isFinite(d.mean)) throw new Invalid(`${at}: distributionValue.mean must be a number`);
    const bounds = d.bucketOptions?.explicitBuckets?.bounds;
    if (!Array.isArray(bounds) || bounds.length === 0 || bounds.some((b, j) => typeof b !== 'number' || (j > 0 && b <= (bounds[j - 1] as number)))) {
      throw new Invalid(`${at}: bucketOptions.explicitBuckets.bounds must be strictly increasing numbers`);
    }
    const counts = d.bucketCounts;
    if (!Array.isArray(counts) || counts.length !== bounds.length + 1) throw new Invalid(`${at}: bucketCounts must have ${bounds.length + 1} entries (N bounds, N+1 buckets)`);
    let sum = 0;
    for (const c of counts) {
      const n = Number(c);
      if (!Number.isInteger(n) || n < 0) throw new Invalid(`${at}: bucketCounts must be non-negative int64s`);
      sum += n;
    }
    if (sum !== count) throw new Invalid(`${at}: bucketCounts sum to ${sum}, count is ${count}`);
  }
  return {
    metric: { type: metric.type, labels },
    resource: { type: 'generic_task', labels: resource.labels },
    metricKind: kind,
    valueType: vt,
    point: { interval: { startTime: iv.startTime as string | undefined, endTime: iv.endTime }, value },
  };
}

function scalar(p: StoredPoint): number {
  const v = p.point.value;
  if ('doubleValue' in v) return v.doubleValue as number;
  if ('int64Value' in v) return Number(v.int64Value);
  return Number((v.distributionValue as { count: string }).count);
}

export async function startCloudMonitoringDouble(opts: { accessTokens: string[] }): Promise<CloudMonitoringDouble> {
  const calls: MonitoringCall[] = [];
  const points: StoredPoint[] = [];
  const last = new Map<string, StoredPoint>();
  const descriptors = new Map<string, string>();
  let failing: { status: number; message: string } | undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec((req.url ?? '').split('?')[0]);
      const call: MonitoringCall = { project: m ? decodeURIComponent(m[1]) : '', status: 200, series: 0, authorization: req.headers.authorization };
      calls.push(call);
      const answer = (status: number, message?: string) => {
        call.status = status;
        call.error = message;
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(message === undefined ? '{}' : JSON.stringify({ error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN' } }));
      };
      if (req.method !== 'POST' || !m) return answer(404, 'Not found');
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !opts.accessTokens.includes(auth.slice(7))) {
        return answer(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
      }
      if (failing) return answer(failing.status, failing.message);
      let body: { timeSeries?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timeSeries?: unknown };
      } catch {
        return answer(400, 'Invalid JSON payload received.');
      }
      try {
        const list = body.timeSeries;
        if (!Array.isArray(list) || list.length === 0) throw new Invalid('timeSeries must hold at least one time series');
        if (list.length > 200) throw new Invalid(`Field timeSeries had an invalid value: ${list.length} time series; at most 200 per request`);
        call.series = list.length;
        const checked = list.map((ts, i) => checkSeries(ts as Record<string, unknown>, i));
        const seen = new Set<string>();
        checked.forEach((p, i) => {
          if (p.resource.labels.project_id !== call.project) throw new Invalid(`timeSeries[${i}]: resource project_id is not the project written to`);
          const key = seriesKey(p);
          if (seen.has(key)) throw new Invalid(`Field timeSeries[${i}] had an invalid value: Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.`);
          seen.add(key);
          const d = descriptors.get(p.metric.type);
          if (d !== undefined && d !== `${p.metricKind} ${p.valueType}`) throw new Invalid(`timeSeries[${i}]: ${p.metric.type} is ${d}, not ${p.metricKind} ${p.valueType}`);
          const prev = last.get(key);
          if (prev) {
            if (Date.parse(p.point.interval.endTime) <= Date.parse(prev.point.interval.endTime)) throw new Invalid(`timeSeries[${i}]: Points must be written in order. One or more of the points specified had an older end time than the most recent point.`);
            if (p.metricKind === 'CUMULATIVE' && p.point.interval.startTime === prev.point.interval.startTime && scalar(p) < scalar(prev)) throw new Invalid(`timeSeries[${i}]: a cumulative value went down without a new startTime`);
          }
        });
        for (const p of checked) {
          descriptors.set(p.metric.type, `${p.metricKind} ${p.valueType}`);
          last.set(seriesKey(p), p);
          points.push(p);
        }
        answer(200);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        answer(400, err.message);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    points,
    fail(status, message = 'The caller does not have permission') {
      failing = status === undefined ? undefined : { status, message };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
