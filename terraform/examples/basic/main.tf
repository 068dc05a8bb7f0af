# The smallest deployment: a 2nd-gen function built from this repository,
# serving private modules of one GitHub organization through a GitHub App, to
# clients that authenticate (clientAuth): identity "ci" with a password whose
# hash you add to Secret Manager, and access tokens signed with a key the
# module generates.

variable "project_id" {
  type = string
}

module "modproxy" {
  source      = "../.."
  project_id  = var.project_id
  region      = "europe-west1"
  bucket_name = "${var.project_id}-modproxy"
  source_dir  = "${path.module}/../../.."

  # Created by the module (these are the defaults), readable by the proxy only.
  password_hash_secret_ids = ["modproxy-ci-password-hash"]
  token_secret_id          = "modproxy-token-secret"

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
    clientAuth:
      enabled: true
      identities:
        - name: ci
          passwordHash:
            secret: projects/${var.project_id}/secrets/modproxy-ci-password-hash/versions/latest
      authenticators:
        accessToken:
          audience: modproxy
          secret:
            secret: projects/${var.project_id}/secrets/modproxy-token-secret/versions/latest
      acl:
        - identities: [ci]
          moduleRegexp: '^github\.com/my-org/'
          access: allow
  YAML
}

output "goproxy" {
  value = module.modproxy.url
}
