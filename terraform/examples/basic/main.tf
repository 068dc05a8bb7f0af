# The smallest deployment: a 2nd-gen function built from this repository,
# serving private modules of one GitHub organization through a GitHub App.

variable "project_id" {
  type = string
}

module "modproxy" {
  source      = "../.."
  project_id  = var.project_id
  region      = "europe-west1"
  bucket_name = "${var.project_id}-modproxy"
  source_dir  = "${path.module}/../../.."

  config_yaml = <<-YAML
    gitHub:
      - host: github.com
        gitHubApps:
          - id: 123456
            privateKey:
              envVar: GITHUB_APP_KEY
    privateModules:
      - pathPrefix: github.com/my-org
        auth:
          gitHubApp: 123456
    # To require client credentials, add a clientAuth section (see the README);
    # keep its secrets in Secret Manager and reference them.
  YAML
}

output "goproxy" {
  value = module.modproxy.url
}
