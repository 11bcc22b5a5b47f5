// SPDX-License-Identifier: MPL-2.0

// Package atlassim simulates the part of the MongoDB Atlas Administration API
// that this provider uses: the tenant (M2/M5) cluster backup endpoints under
// /api/atlas/{v1.0,v2}/groups/{groupId}/clusters/{clusterName}/backup/tenant
// (POST download, POST restore, GET snapshots, GET snapshots/{id},
// GET restores, GET restores/{id}) and the Flex backup endpoints under
// /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup (the same, with
// restoreJobs for restores, POST included). The families are data over one
// lifecycle; the v2 ones require one of their versioned media types. It
// also answers the project and cluster reads another client makes to find
// a cluster (clusters.go): GET /api/atlas/v2/groups/{groupId},
// .../clusters[/{clusterName}] (v1.0 and v2) and .../flexClusters[/{name}],
// and what MongoDB's own provider reads beside them (lookups.go).
//
// It is an independent implementation written from the API reference, not
// from the project's client, so that a misreading of the API does not hide in
// both. It does what Atlas does where a client can tell:
//
//   - HTTP Digest authentication (MD5, qop=auth, realm "MMS Public API") with
//     the Atlas challenge and error bodies; nonces are random, each
//     (nonce, nonce count) pair is accepted once, and a nonce may be reused
//     with new counts.
//   - Atlas error bodies and codes, pagination (pageNum, itemsPerPage,
//     includeCount, self/next/previous links) where the description has it
//     (the tenant backup lists answer every item at once), the pretty and
//     envelope query parameters, and gzip answers when asked.
//   - Restore jobs that move PENDING -> RUNNING -> COMPLETED over
//     Config.RestoreDuration and then show on their target (restore.go).
//   - Download jobs that move QUEUED -> RUNNING -> COMPLETED on a schedule
//     computed from an injected clock, and whose snapshotUrl works for four
//     hours like a presigned URL: GET on it, without digest credentials,
//     serves a real tar.gz in mongodump layout, or with Config.ArchiveSize a
//     generated tar.gz of exactly that size (bigarchive.go), with Range,
//     ETag and Last-Modified (download_range.go).
//
// Faults (Config.Faults, Server.SetFaults) inject rate limits, 5xx answers,
// latency, dropped connections, expiring nonces, strict nonce counts,
// failing jobs and download limits, deterministically from a seed.
//
// GET /__sim/stats reports request counts per route and status. Server test
// hooks (Job, Jobs, SetJobStatus, DeleteJob, AddSnapshot, Stats) let tests
// inspect and steer the state without going through HTTP.
//
// The simulator keeps everything in memory and is meant for tests and demos
// on loopback; cmd/atlas-sim serves it as a program.
package atlassim
