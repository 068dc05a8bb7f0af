#!/usr/bin/env bash
# Deploys modproxy from this repository with gcloud: prints every command,
# then runs it (--dry-run only prints). Infrastructure (service account,
# bucket, IAM, secrets) comes from the Terraform module, or from
# deploy/setup.sh — this script only deploys the code.
#
# usage: deploy/deploy.sh --project P --region R --config FILE [--target function|run]
#                         [--name modproxy] [--service-account EMAIL]
#                         [--github-app-key-secret NAME] [--allow-unauthenticated|--no-allow-unauthenticated]
#                         [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."

project="" region="" config="" target="function" name="modproxy" sa="" key_secret="modproxy-github-app-key"
invoker="--allow-unauthenticated" dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="$2"; shift 2 ;;
    --region) region="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --service-account) sa="$2"; shift 2 ;;
    --github-app-key-secret) key_secret="$2"; shift 2 ;;
    --allow-unauthenticated) invoker="--allow-unauthenticated"; shift ;;
    --no-allow-unauthenticated) invoker="--no-allow-unauthenticated"; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$project" ] && [ -n "$region" ] && [ -n "$config" ] || { echo "deploy.sh: --project, --region and --config are required" >&2; exit 2; }
[ -f "$config" ] || { echo "deploy.sh: no config file $config" >&2; exit 2; }
case "$target" in function|run) ;; *) echo "deploy.sh: --target must be function or run" >&2; exit 2 ;; esac
sa="${sa:-$name@$project.iam.gserviceaccount.com}"

# With --allow-unauthenticated (the default) anyone on the internet reaches it:
# the configuration must authenticate clients itself (clientAuth.enabled), or
# say explicitly that it must not (clientAuth.allowUnauthenticated). modproxy
# refuses such a start too; this says so before a build.
if [ "$invoker" = "--allow-unauthenticated" ]; then
  node --input-type=module -e '
    import fs from "node:fs";
    import YAML from "yaml";
    const c = YAML.parse(fs.readFileSync(process.argv[1], "utf8"), { merge: true }) ?? {};
    if (c.clientAuth?.enabled !== true && c.clientAuth?.allowUnauthenticated !== true) {
      console.error(`deploy.sh: ${process.argv[1]} does not enable clientAuth, and --allow-unauthenticated lets anyone call the proxy: ` +
        "set clientAuth.enabled: true (see the README), or deploy with --no-allow-unauthenticated");
      process.exit(2);
    }' "$config"
fi

# The configuration goes in as an environment variable holding the YAML,
# through an env-vars file (YAML mapping; the value JSON-quoted, which YAML reads).
env_file="deploy/.env.$name.yaml"
node -e 'const fs=require("fs");process.stdout.write("MODPROXY_CONFIG: "+JSON.stringify(fs.readFileSync(process.argv[1],"utf8"))+"\n")' "$config" > "$env_file"

common=(--project="$project" --region="$region" --service-account="$sa" "$invoker"
  --env-vars-file="$env_file" --set-secrets="GITHUB_APP_KEY=$key_secret:latest"
  --timeout=600s --memory=1Gi --cpu=1 --concurrency=16 --max-instances=20)

if [ "$target" = function ]; then
  cmd=(gcloud functions deploy "$name" --gen2 --runtime=nodejs22 --entry-point=goproxy --trigger-http --source=. "${common[@]}")
else
  cmd=(gcloud run deploy "$name" --source=. "${common[@]}")
fi

printf '%q ' "${cmd[@]}"; echo
if [ "$dry_run" = 1 ]; then
  echo "# dry run: not executed; $env_file holds MODPROXY_CONFIG from $config"
  exit 0
fi
"${cmd[@]}"
