# A Flex download job is imported by project ID, Flex cluster name and
# restore job ID, separated by slashes.
terraform import atlas_flex_snapshot_download.example 6568a1b2c3d4e5f601234567/Flex0/6568a1b2c3d4e5f60000f001
