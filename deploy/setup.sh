#!/usr/bin/env bash
# One-time infrastructure for modproxy with gcloud (the Terraform module in
# terraform/ does the same): service account, append-only bucket, self-signing
# for V4 URLs, and a Secret Manager secret for the GitHub App key, readable by
# that account only. Prints every command, then runs it (--dry-run only prints).
#
# usage: deploy/setup.sh --project P --region R --bucket B [--name modproxy]
#                        [--github-app-key-secret modproxy-github-app-key] [--dry-run]
set -euo pipefail
project="" region="" bucket="" name="modproxy" key_secret="modproxy-github-app-key" dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="$2"; shift 2 ;;
    --region) region="$2"; shift 2 ;;
    --bucket) bucket="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --github-app-key-secret) key_secret="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$project" ] && [ -n "$region" ] && [ -n "$bucket" ] || { echo "setup.sh: --project, --region and --bucket are required" >&2; exit 2; }
sa="$name@$project.iam.gserviceaccount.com"

run() {
  printf '%q ' "$@"; echo
  if [ "$dry_run" = 0 ]; then "$@"; fi
}

run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  secretmanager.googleapis.com iamcredentials.googleapis.com storage.googleapis.com --project="$project"
run gcloud iam service-accounts create "$name" --project="$project" --display-name="modproxy (Go module proxy)"
run gcloud storage buckets create "gs://$bucket" --project="$project" --location="$region" \
  --uniform-bucket-level-access --public-access-prevention
# Append-only: create and read, no delete (so nothing can be overwritten either).
run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="serviceAccount:$sa" --role=roles/storage.objectCreator
run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="serviceAccount:$sa" --role=roles/storage.objectViewer
# V4 signed URLs for large zips: IAM signBlob as itself.
run gcloud iam service-accounts add-iam-policy-binding "$sa" --project="$project" --member="serviceAccount:$sa" --role=roles/iam.serviceAccountTokenCreator
# The GitHub App key: add it with `gcloud secrets versions add $key_secret --data-file=app.pem`.
run gcloud secrets create "$key_secret" --project="$project" --replication-policy=automatic
run gcloud secrets add-iam-policy-binding "$key_secret" --project="$project" --member="serviceAccount:$sa" --role=roles/secretmanager.secretAccessor
