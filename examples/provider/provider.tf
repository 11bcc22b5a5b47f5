provider "atlas" {
  # API keys, one of two ways:
  #
  # 1. From the environment (recommended); the block then needs no keys:
  #      export MONGODB_ATLAS_PUBLIC_KEY="<public key>"
  #      export MONGODB_ATLAS_PRIVATE_KEY="<private key>"
  #
  # 2. As arguments, from variables. Never commit the private key: pass it
  #    with TF_VAR_atlas_private_key and declare the variable sensitive.
  #      public_key  = var.atlas_public_key
  #      private_key = var.atlas_private_key

  # Optional. Defaults to https://cloud.mongodb.com (or MONGODB_ATLAS_BASE_URL);
  # Atlas for Government is https://cloud.mongodbgov.com.
  base_url = "https://cloud.mongodb.com"
}
