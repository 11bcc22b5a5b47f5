# A Flex restore job is imported by the source's project ID, the source
# Flex cluster's name and the restore job ID, separated by slashes. A
# DOWNLOAD job is refused: import it into atlas_flex_snapshot_download.
terraform import atlas_flex_snapshot_restore.staging 6568a1b2c3d4e5f601234567/Flex0/6568a1b2c3d4e5f60000f001
