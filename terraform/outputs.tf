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
