// Application Default Credentials for the Cloud Monitoring push (the
// service account of the Cloud Run service; a key file or gcloud elsewhere),
// and the region of this instance from the metadata server.
import { GoogleAuth } from 'google-auth-library';
import type { GoogleCredentials } from './cloudMonitoring.js';

const MONITORING_WRITE = 'https://www.googleapis.com/auth/monitoring.write';

export function monitoringCredentials(): GoogleCredentials {
  const auth = new GoogleAuth({ scopes: [MONITORING_WRITE] });
  return {
    async accessToken() {
      const token = await auth.getAccessToken();
      if (!token) throw new Error('Application Default Credentials gave no access token');
      return token;
    },
    projectId: () => auth.getProjectId(),
  };
}

/**
 * The region this instance runs in, from the metadata server (Cloud Run
 * answers "projects/<number>/regions/<region>"), or undefined off Google Cloud.
 */
export async function metadataRegion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const host = env.GCE_METADATA_HOST ?? 'metadata.google.internal';
  try {
    const res = await fetch(`http://${host}/computeMetadata/v1/instance/region`, { headers: { 'metadata-flavor': 'Google' }, signal: AbortSignal.timeout(2000) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    const region = (await res.text()).trim().split('/').pop();
    return region && /^[a-z0-9-]{1,63}$/.test(region) ? region : undefined;
  } catch {
    return undefined;
  }
}
