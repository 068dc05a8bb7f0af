# modproxy on Google Cloud, least privilege:
# - a dedicated service account;
# - an append-only bucket: it may create and read objects, never delete or
#   overwrite them (roles/storage.objectCreator + objectViewer, no delete);
# - roles/iam.serviceAccountTokenCreator on itself only, to sign V4 URLs for
#   large zips (IAM signBlob);
# - the GitHub App key in Secret Manager, readable by this account only;
# - client authentication on: secrets for identities' password hashes and a
#   generated access-token key (48 random bytes), readable by this account
#   only, and allUsers may invoke it only when config_yaml enables clientAuth;
# - no project-wide role for the account.
# Optional (off by default): a separate admin account that may delete in the
# bucket (roles/storage.objectAdmin, bucket only), and a Cloud Run job that
# runs `modproxy-admin gc --delete` as that account on a Cloud Scheduler
# schedule. The proxy's account never gets delete.

locals {
  gc_enabled    = var.gc_schedule != ""
  admin_enabled = var.admin_account || local.gc_enabled

  services = concat(
    ["cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com", "artifactregistry.googleapis.com", "secretmanager.googleapis.com", "iamcredentials.googleapis.com", "storage.googleapis.com"],
    local.gc_enabled ? ["cloudscheduler.googleapis.com"] : [],
  )

  # The storage section always points at this module's bucket.
  config = join("\n", [
    "storage:",
    "  gcs:",
    "    bucket: ${google_storage_bucket.modules.name}",
    var.config_yaml,
  ])

  # gc needs the storage section only (no secrets, no sources).
  gc_config = join("\n", [
    "storage:",
    "  gcs:",
    "    bucket: ${google_storage_bucket.modules.name}",
  ])

  # allUsers reaches it from the internet: only with modproxy's own client authentication.
  config_doc          = try(yamldecode(var.config_yaml), null)
  client_auth_enabled = try(local.config_doc.clientAuth.enabled, false) == true

  # What Cloud Build needs (what .gcloudignore uploads): no tests, keys,
  # configurations, environment files or Terraform state.
  source_root = coalesce(var.source_dir, "${path.module}/..")
  source_files = sort(setsubtract(
    setunion(
      fileset(local.source_root, "{package.json,package-lock.json,tsconfig.json,tsconfig.build.json,Procfile}"),
      fileset(local.source_root, "{functions,lib}/**/*.ts"),
    ),
    fileset(local.source_root, "**/*.test.ts"),
  ))

  secret_env = var.github_app_key_secret_id == "" ? [] : [{
    key     = "GITHUB_APP_KEY"
    secret  = google_secret_manager_secret.github_app_key[0].secret_id
    version = var.github_app_key_secret_version
  }]

  service_name = var.deploy_target == "function" ? google_cloudfunctions2_function.proxy[0].service_config[0].service : google_cloud_run_v2_service.proxy[0].name
  url          = var.deploy_target == "function" ? google_cloudfunctions2_function.proxy[0].service_config[0].uri : google_cloud_run_v2_service.proxy[0].uri
}

resource "google_project_service" "services" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "proxy" {
  project      = var.project_id
  account_id   = var.name
  display_name = "modproxy (Go module proxy)"
}

resource "google_storage_bucket" "modules" {
  project                     = var.project_id
  name                        = var.bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = false
  }

  # Lease objects are only coordination hints; they may go after a day.
  # Module versions and their bodies are never deleted.
  lifecycle_rule {
    condition {
      age            = 1
      matches_prefix = ["leases/"]
    }
    action {
      type = "Delete"
    }
  }
}

# Append-only: create and read; replacing an object also needs delete, which it does not have.
resource "google_storage_bucket_iam_member" "proxy_creator" {
  bucket = google_storage_bucket.modules.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.proxy.email}"
}

resource "google_storage_bucket_iam_member" "proxy_viewer" {
  bucket = google_storage_bucket.modules.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.proxy.email}"
}

# Signing V4 URLs without a key file: IAM signBlob on itself.
resource "google_service_account_iam_member" "proxy_signs_as_itself" {
  service_account_id = google_service_account.proxy.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.proxy.email}"
}

# The GitHub App private key. Add the key with
#   gcloud secrets versions add <id> --data-file=app.pem
# so that it never passes through Terraform state.
resource "google_secret_manager_secret" "github_app_key" {
  count     = var.github_app_key_secret_id == "" ? 0 : 1
  project   = var.project_id
  secret_id = var.github_app_key_secret_id
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

resource "google_secret_manager_secret_iam_member" "proxy_reads_github_app_key" {
  count     = var.github_app_key_secret_id == "" ? 0 : 1
  project   = var.project_id
  secret_id = google_secret_manager_secret.github_app_key[0].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.proxy.email}"
}

# Client authentication (clientAuth in config_yaml). The password hashes are
# added with gcloud (`npx modproxy-auth hash-password < pw.txt | gcloud secrets
# versions add <id> --data-file=-`); the access-token signing key is generated
# here. It is in Terraform state, like every generated secret: keep the state
# private.
resource "google_secret_manager_secret" "password_hash" {
  for_each  = toset(var.password_hash_secret_ids)
  project   = var.project_id
  secret_id = each.value
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

resource "google_secret_manager_secret_iam_member" "proxy_reads_password_hash" {
  for_each  = google_secret_manager_secret.password_hash
  project   = var.project_id
  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.proxy.email}"
}

resource "google_secret_manager_secret" "token" {
  count     = var.token_secret_id == "" ? 0 : 1
  project   = var.project_id
  secret_id = var.token_secret_id
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

# clientAuth.authenticators.accessToken.secret: 48 random bytes (modproxy refuses fewer than 32).
resource "random_bytes" "token" {
  count  = var.token_secret_id == "" ? 0 : 1
  length = 48
}

resource "google_secret_manager_secret_version" "token" {
  count       = var.token_secret_id == "" ? 0 : 1
  secret      = google_secret_manager_secret.token[0].id
  secret_data = random_bytes.token[0].base64
}

resource "google_secret_manager_secret_iam_member" "proxy_reads_token" {
  count     = var.token_secret_id == "" ? 0 : 1
  project   = var.project_id
  secret_id = google_secret_manager_secret.token[0].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.proxy.email}"
}

# --- Cloud Functions (2nd gen), built from the repository by Cloud Build ---

resource "google_storage_bucket" "source" {
  count                       = var.deploy_target == "function" ? 1 : 0
  project                     = var.project_id
  name                        = "${var.bucket_name}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
}

data "archive_file" "source" {
  count       = var.deploy_target == "function" ? 1 : 0
  type        = "zip"
  output_path = "${path.root}/.terraform/modproxy-source.zip"

  # An allow-list, as .gcloudignore: the build inputs only.
  dynamic "source" {
    for_each = local.source_files
    content {
      filename = source.value
      content  = file("${local.source_root}/${source.value}")
    }
  }
}

resource "google_storage_bucket_object" "source" {
  count  = var.deploy_target == "function" ? 1 : 0
  name   = "modproxy-${data.archive_file.source[0].output_sha256}.zip"
  bucket = google_storage_bucket.source[0].name
  source = data.archive_file.source[0].output_path
}

resource "google_cloudfunctions2_function" "proxy" {
  count    = var.deploy_target == "function" ? 1 : 0
  project  = var.project_id
  name     = var.name
  location = var.region

  build_config {
    runtime     = "nodejs22"
    entry_point = "goproxy"
    source {
      storage_source {
        bucket = google_storage_bucket.source[0].name
        object = google_storage_bucket_object.source[0].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.proxy.email
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    max_instance_request_concurrency = var.concurrency
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    timeout_seconds                  = var.timeout_seconds
    ingress_settings                 = "ALLOW_ALL"
    environment_variables = {
      MODPROXY_CONFIG = local.config
    }
    dynamic "secret_environment_variables" {
      for_each = local.secret_env
      content {
        key        = secret_environment_variables.value.key
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret
        version    = secret_environment_variables.value.version
      }
    }
  }

  depends_on = [
    google_project_service.services,
    google_secret_manager_secret_iam_member.proxy_reads_github_app_key,
    google_secret_manager_secret_iam_member.proxy_reads_password_hash,
    google_secret_manager_secret_iam_member.proxy_reads_token,
    google_secret_manager_secret_version.token,
  ]
}

# --- Cloud Run, from a container image ---

resource "google_cloud_run_v2_service" "proxy" {
  count               = var.deploy_target == "cloud_run" ? 1 : 0
  project             = var.project_id
  name                = var.name
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = false

  template {
    service_account                  = google_service_account.proxy.email
    timeout                          = "${var.timeout_seconds}s"
    max_instance_request_concurrency = var.concurrency
    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }
    containers {
      image = var.container_image
      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
      }
      env {
        name  = "MODPROXY_CONFIG"
        value = local.config
      }
      dynamic "env" {
        for_each = local.secret_env
        content {
          name = env.value.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret
              version = env.value.version
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_project_service.services,
    google_secret_manager_secret_iam_member.proxy_reads_github_app_key,
    google_secret_manager_secret_iam_member.proxy_reads_password_hash,
    google_secret_manager_secret_iam_member.proxy_reads_token,
    google_secret_manager_secret_version.token,
  ]
}

# Who may call it. Both targets are Cloud Run services underneath.
resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = toset(var.invoker_members)
  project  = var.project_id
  location = var.region
  name     = local.service_name
  role     = "roles/run.invoker"
  member   = each.value

  lifecycle {
    precondition {
      condition     = !contains(["allUsers", "allAuthenticatedUsers"], each.value) || local.client_auth_enabled
      error_message = "invoker_members lets anyone call the proxy (${each.value}), but config_yaml does not set clientAuth.enabled: true, so anyone could read the modules it serves. Enable clientAuth (see the README), or set invoker_members to the groups or service accounts that may call it."
    }
  }
}

# --- Optional: garbage collection (modproxy-admin gc), as a separate admin account ---

resource "google_service_account" "admin" {
  count        = local.admin_enabled ? 1 : 0
  project      = var.project_id
  account_id   = "${var.name}-admin"
  display_name = "modproxy admin (gc: may delete in the module bucket)"
}

# Delete (and everything else on objects) in this bucket only: for gc, never the proxy.
resource "google_storage_bucket_iam_member" "admin_object_admin" {
  count  = local.admin_enabled ? 1 : 0
  bucket = google_storage_bucket.modules.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.admin[0].email}"
}

resource "google_cloud_run_v2_job" "gc" {
  count               = local.gc_enabled ? 1 : 0
  project             = var.project_id
  name                = "${var.name}-gc"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1
    template {
      service_account = google_service_account.admin[0].email
      max_retries     = 0
      timeout         = "3600s"
      containers {
        image   = var.container_image
        command = ["node"]
        args    = concat(["dist/lib/cli/modproxyAdminBin.js", "gc", "--delete"], var.gc_args)
        env {
          name  = "MODPROXY_CONFIG"
          value = local.gc_config
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.container_image != null
      error_message = "gc_schedule runs modproxy-admin in a Cloud Run job: set container_image (the image of modproxy, as for deploy_target = \"cloud_run\")."
    }
  }

  depends_on = [google_project_service.services, google_storage_bucket_iam_member.admin_object_admin]
}

# The scheduler calls the Run Admin API as the admin account: it may run this job only.
resource "google_cloud_run_v2_job_iam_member" "admin_runs_gc" {
  count    = local.gc_enabled ? 1 : 0
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.gc[0].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.admin[0].email}"
}

resource "google_cloud_scheduler_job" "gc" {
  count     = local.gc_enabled ? 1 : 0
  project   = var.project_id
  name      = "${var.name}-gc"
  region    = var.region
  schedule  = var.gc_schedule
  time_zone = "Etc/UTC"

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.gc[0].name}:run"
    oauth_token {
      service_account_email = google_service_account.admin[0].email
    }
  }

  depends_on = [google_project_service.services, google_cloud_run_v2_job_iam_member.admin_runs_gc]
}
