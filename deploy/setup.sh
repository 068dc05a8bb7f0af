#!/usr/bin/env bash
# One-time infrastructure for modproxy with gcloud (the Terraform module in
# terraform/ does the same): service account, append-only bucket, self-signing
# for V4 URLs, and Secret Manager secrets readable by that account only: the
# GitHub App key, the client password hash of identity "ci", and the access-
# token signing key, which this script generates (48 random bytes, never
# printed). Safe to re-run: each resource is created only when `gcloud ...
# describe` does not find it, the token key only when its secret has no
# version, and IAM bindings are idempotent. Prints every command, then runs
# it (--dry-run only prints, and asks gcloud nothing).
#
# usage: deploy/setup.sh --project P --region R --bucket B [--name modproxy]
#                        [--github-app-key-secret modproxy-github-app-key]
#                        [--password-hash-secret modproxy-ci-password-hash]
#                        [--token-secret modproxy-token-secret] [--admin-account] [--dry-run]
#
# --admin-account also creates <name>-admin with roles/storage.objectAdmin on
# the bucket only: the identity for `modproxy-admin gc --delete` (README:
# Operating modproxy). The proxy's own account never gets delete.
set -euo pipefail
project="" region="" bucket="" name="modproxy" dry_run=0 admin_account=0
key_secret="modproxy-github-app-key" hash_secret="modproxy-ci-password-hash" token_secret="modproxy-token-secret"
while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="$2"; shift 2 ;;
    --region) region="$2"; shift 2 ;;
    --bucket) bucket="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --github-app-key-secret) key_secret="$2"; shift 2 ;;
    --password-hash-secret) hash_secret="$2"; shift 2 ;;
    --token-secret) token_secret="$2"; shift 2 ;;
    --admin-account) admin_account=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$project" ] && [ -n "$region" ] && [ -n "$bucket" ] || { echo "setup.sh: --project, --region and --bucket are required" >&2; exit 2; }
sa="$name@$project.iam.gserviceaccount.com"

run() {
  printf '%q ' "$@"; echo
  if [ "$dry_run" = 0 ]; then "$@"; fi
}

# found WHAT CMD...: whether a read-only gcloud command finds WHAT (always "no" in a dry run).
found() {
  local what="$1"; shift
  [ "$dry_run" = 0 ] || return 1
  if "$@" >/dev/null 2>&1; then
    echo "# exists: $what"
    return 0
  fi
  return 1
}

# has_version SECRET: whether the secret has an enabled version (always "no" in a dry run).
has_version() {
  [ "$dry_run" = 0 ] || return 1
  [ -n "$(gcloud secrets versions list "$1" --project="$project" --filter=state=ENABLED --limit=1 --format='value(name)' 2>/dev/null)" ]
}

run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  secretmanager.googleapis.com iamcredentials.googleapis.com storage.googleapis.com --project="$project"
found "service account $sa" gcloud iam service-accounts describe "$sa" --project="$project" ||
  run gcloud iam service-accounts create "$name" --project="$project" --display-name="modproxy (Go module proxy)"
found "bucket gs://$bucket" gcloud storage buckets describe "gs://$bucket" --project="$project" ||
  run gcloud storage buckets create "gs://$bucket" --project="$project" --location="$region" \
    --uniform-bucket-level-access --public-access-prevention
# Append-only: create and read, no delete (so nothing can be overwritten either).
run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="serviceAccount:$sa" --role=roles/storage.objectCreator
run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="serviceAccount:$sa" --role=roles/storage.objectViewer
# V4 signed URLs for large zips: IAM signBlob as itself.
run gcloud iam service-accounts add-iam-policy-binding "$sa" --project="$project" --member="serviceAccount:$sa" --role=roles/iam.serviceAccountTokenCreator

# Optional: the admin identity for gc, which may delete in this bucket (and nowhere else).
if [ "$admin_account" = 1 ]; then
  admin_sa="$name-admin@$project.iam.gserviceaccount.com"
  found "service account $admin_sa" gcloud iam service-accounts describe "$admin_sa" --project="$project" ||
    run gcloud iam service-accounts create "$name-admin" --project="$project" --display-name="modproxy admin (gc: may delete in the module bucket)"
  run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="serviceAccount:$admin_sa" --role=roles/storage.objectAdmin
fi

# The secrets modproxy.example.yaml names, each readable by the proxy's account only.
for secret in "$key_secret" "$hash_secret" "$token_secret"; do
  found "secret $secret" gcloud secrets describe "$secret" --project="$project" ||
    run gcloud secrets create "$secret" --project="$project" --replication-policy=automatic
  run gcloud secrets add-iam-policy-binding "$secret" --project="$project" --member="serviceAccount:$sa" --role=roles/secretmanager.secretAccessor
done

# The access-token signing key (clientAuth.authenticators.accessToken.secret):
# 48 random bytes, base64, piped into Secret Manager; it is never printed.
if has_version "$token_secret"; then
  echo "# exists: a version of secret $token_secret (the access-token signing key)"
else
  echo "openssl rand -base64 48 | tr -d '\\n' | gcloud secrets versions add $(printf '%q' "$token_secret") --project=$(printf '%q' "$project") --data-file=-"
  if [ "$dry_run" = 0 ]; then
    openssl rand -base64 48 | tr -d '\n' | gcloud secrets versions add "$token_secret" --project="$project" --data-file=-
  fi
fi

# What only you can add (modproxy refuses to start while they are missing).
has_version "$key_secret" ||
  echo "# next: add the GitHub App key:  gcloud secrets versions add $key_secret --project=$project --data-file=app.pem"
has_version "$hash_secret" ||
  echo "# next: add identity ci's password hash:  npx modproxy-auth hash-password < ci-password.txt | gcloud secrets versions add $hash_secret --project=$project --data-file=-"
