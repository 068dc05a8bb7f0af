variable "project_id" {
  description = "The Google Cloud project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the function (or Cloud Run service) and the bucket."
  type        = string
}

variable "name" {
  description = "Name of the function or service, and prefix of the other resources."
  type        = string
  default     = "modproxy"
}

variable "bucket_name" {
  description = "Name of the bucket that stores module versions (globally unique)."
  type        = string
}

variable "deploy_target" {
  description = "\"function\" (Cloud Functions 2nd gen, built from source) or \"cloud_run\" (a container image you built)."
  type        = string
  default     = "function"
  validation {
    condition     = contains(["function", "cloud_run"], var.deploy_target)
    error_message = "deploy_target must be \"function\" or \"cloud_run\"."
  }
}

variable "source_dir" {
  description = "The modproxy repository checkout to deploy (deploy_target = \"function\")."
  type        = string
  default     = null
}

variable "container_image" {
  description = "Container image to run (deploy_target = \"cloud_run\"), e.g. built with `gcloud run deploy --source .` or `gcloud builds submit --pack`."
  type        = string
  default     = null
}

variable "config_yaml" {
  description = "modproxy configuration (YAML). Its storage section is set by this module; secrets are referenced, never inlined."
  type        = string
  default     = ""
}

variable "github_app_key_secret_id" {
  description = "Secret Manager secret to create for the GitHub App private key (add its version with gcloud, not Terraform, so the key never lands in state). Empty: none."
  type        = string
  default     = "modproxy-github-app-key"
}

variable "github_app_key_secret_version" {
  description = "Which version of the GitHub App key secret the function reads."
  type        = string
  default     = "latest"
}

variable "invoker_members" {
  description = "Who may invoke the proxy. Default allUsers, because modproxy authenticates clients itself: allUsers (or allAuthenticatedUsers) requires clientAuth.enabled: true in config_yaml. Use e.g. [\"group:dev@example.com\"] to also require Google IAM identity."
  type        = list(string)
  default     = ["allUsers"]
}

variable "password_hash_secret_ids" {
  description = "Secret Manager secrets to create for clientAuth.identities[].passwordHash, readable by the proxy only. Add each hash with `npx modproxy-auth hash-password < pw.txt | gcloud secrets versions add <id> --data-file=-`; reference it in config_yaml as {secret: projects/<project>/secrets/<id>/versions/latest}."
  type        = list(string)
  default     = ["modproxy-ci-password-hash"]
}

variable "token_secret_id" {
  description = "Secret Manager secret to create for clientAuth.authenticators.accessToken.secret, with a generated version (48 random bytes, base64; in Terraform state). Reference it in config_yaml as {secret: projects/<project>/secrets/<id>/versions/latest}. Empty: none."
  type        = string
  default     = "modproxy-token-secret"
}

variable "memory" {
  description = "Memory of each instance (zip building needs ~2x the largest module)."
  type        = string
  default     = "1Gi"
}

variable "cpu" {
  description = "vCPUs of each instance (>= 1 for request concurrency above 1)."
  type        = string
  default     = "1"
}

variable "concurrency" {
  description = "Concurrent requests per instance."
  type        = number
  default     = 16
}

variable "min_instances" {
  type    = number
  default = 0
}

variable "max_instances" {
  type    = number
  default = 20
}

variable "timeout_seconds" {
  description = "Request timeout; cold builds of large modules take time."
  type        = number
  default     = 600
}

variable "admin_account" {
  description = "Create a separate admin service account (<name>-admin) with roles/storage.objectAdmin on the bucket, for `modproxy-admin gc --delete`; the proxy's own account never gets delete. Implied by gc_schedule."
  type        = bool
  default     = false
}

variable "gc_schedule" {
  description = "Cron schedule (UTC) of a Cloud Run job that runs `modproxy-admin gc --delete` as the admin account, e.g. \"30 3 * * 0\" (Sundays 03:30). Needs container_image. Empty: no job."
  type        = string
  default     = ""
}

variable "gc_args" {
  description = "Extra arguments of the scheduled gc, e.g. [\"--grace\", \"7d\"] (default grace 48h)."
  type        = list(string)
  default     = []
}
