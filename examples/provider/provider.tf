provider "atlas" {
  # Exactly one way to authenticate. From the environment (recommended),
  # the block then needs no credentials:
  #
  #   a service account (OAuth 2.0 client credentials), as Atlas recommends:
  #      export MONGODB_ATLAS_CLIENT_ID="<client id>"
  #      export MONGODB_ATLAS_CLIENT_SECRET="<client secret>"
  #
  #   or a programmatic API key:
  #      export MONGODB_ATLAS_PUBLIC_KEY="<public key>"
  #      export MONGODB_ATLAS_PRIVATE_KEY="<private key>"
  #
  # Or as arguments, from variables. Never commit a secret: pass it with
  # TF_VAR_... and declare the variable sensitive.
  #      client_id     = var.atlas_client_id
  #      client_secret = var.atlas_client_secret
  #   or
  #      public_key  = var.atlas_public_key
  #      private_key = var.atlas_private_key
  #
  # An access token obtained elsewhere (access_token, or
  # MONGODB_ATLAS_ACCESS_TOKEN) also works, but is never renewed: Atlas's
  # tokens last an hour.

  # Optional. Defaults to https://cloud.mongodb.com (or MONGODB_ATLAS_BASE_URL);
  # Atlas for Government is https://cloud.mongodbgov.com.
  base_url = "https://cloud.mongodb.com"
}
