// The Cloud Trace id of a request, for Cloud Logging's
// `logging.googleapis.com/trace` field (projects/<project>/traces/<id>), so
// request log lines group under their trace. From the W3C `traceparent`
// header, else Google's `X-Cloud-Trace-Context: <id>/<span>;o=<flag>`.
export const TRACE_FIELD = 'logging.googleapis.com/trace';

/** The trace id from a request's `traceparent` and `X-Cloud-Trace-Context` values. */
export function traceId(traceparent: string | undefined, cloudTraceContext: string | undefined): string | undefined {
  if (traceparent === undefined && cloudTraceContext === undefined) return undefined;
  const m = traceparent !== undefined ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim().toLowerCase()) : null;
  if (m && !/^0+$/.test(m[1])) return m[1];
  const x = cloudTraceContext !== undefined ? /^([0-9a-fA-F]{32})(\/|$)/.exec(cloudTraceContext.trim()) : null;
  return x ? x[1].toLowerCase() : undefined;
}

/** The log field for a request, when both the project (GOOGLE_CLOUD_PROJECT) and a trace id are known. */
export function traceField(traceparent: string | undefined, cloudTraceContext: string | undefined, project?: string): Record<string, string> | undefined {
  const id = traceId(traceparent, cloudTraceContext);
  if (!id) return undefined;
  // The environment is read only for a traced request: each read is a call into C++.
  project ??= process.env.GOOGLE_CLOUD_PROJECT;
  return project && /^[a-z0-9:.-]{1,100}$/i.test(project) ? { [TRACE_FIELD]: `projects/${project}/traces/${id}` } : undefined;
}
