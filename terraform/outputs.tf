output "url" {
  description = "The proxy's URL: use it as GOPROXY."
  value       = local.url
}

output "bucket" {
  description = "The bucket that stores module versions."
  value       = google_storage_bucket.modules.name
}

output "service_account" {
  description = "The proxy's service account (grant it nothing project-wide)."
  value       = google_service_account.proxy.email
}

output "admin_service_account" {
  description = "The admin account that may delete in the bucket (modproxy-admin gc --delete), or null when admin_account and gc_schedule are off."
  value       = local.admin_enabled ? google_service_account.admin[0].email : null
}
